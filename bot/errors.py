"""Errors whose message is meant for the person who caused them."""


class UserFacingError(Exception):
    """Expected refusal (bad input, missing permission); its message is shown to the user as is."""
