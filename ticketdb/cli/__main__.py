from ticketdb.cli import main

main()
