from mash.cli import main

main()
