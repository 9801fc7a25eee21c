"""The weekly digest: its period, what it says, how it reads, and its delivery to the admins."""
