from booking.entry import main

main()
