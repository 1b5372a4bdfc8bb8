# nothing here

# really
