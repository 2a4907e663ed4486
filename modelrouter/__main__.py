"""`python -m modelrouter` runs the command line."""

from modelrouter.cli import main

main()
