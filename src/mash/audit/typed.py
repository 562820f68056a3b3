"""What the log keeps of text a person typed. The log is append-only and kept for years, longer than
retention keeps anyone's data, so typed text is kept only where it names something the application
made: an account's username (a password typed into the username box, or a child's name, is not)."""

NOT_AN_ACCOUNT = "(no such user: not kept)"


def username_if_account(username) -> str:
    """The username typed, if it is someone's; otherwise a placeholder (nothing typed: empty)."""
    from django.contrib.auth import get_user_model

    username = str(username or "")
    if not username or get_user_model()._default_manager.filter(username=username).exists():
        return username
    return NOT_AN_ACCOUNT
