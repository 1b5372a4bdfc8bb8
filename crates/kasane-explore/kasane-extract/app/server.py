print('hi')
	indented
