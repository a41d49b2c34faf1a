"""`python -m booking`."""

from booking.cli import app

app(prog_name="booking")
