"""`python -m archfeed`: the same entry point as the console script. Never holds logic."""

from archfeed.cli import main

main()
