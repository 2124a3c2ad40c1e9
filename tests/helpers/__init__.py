"""Loopback stand-ins for the outside world, fakes and factories shared by the tests."""
