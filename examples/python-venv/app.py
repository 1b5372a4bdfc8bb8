"""A tiny service for kasane's rewrite example: prints a greeting and the vendored files."""
import pathlib

print(pathlib.Path("/opt/app/greeting.txt").read_text().strip())
for path in sorted(pathlib.Path("/opt/vendor").rglob("*")):
    print(path)
