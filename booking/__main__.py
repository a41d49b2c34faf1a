from booking.cli.entry import main

main()
