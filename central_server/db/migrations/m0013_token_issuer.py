"""Schema v13 (token issuer): who issued a token that acts for a person (a phone token), so it dies with that
account; phone tokens issued before this have no issuer and expire as the next issue of the token does.

Frozen once released (a later change is a new migration)."""


def m0013_token_issuer(dialect: str) -> list[str]:
    return [
        "ALTER TABLE token_details ADD COLUMN issued_by TEXT",
        "CREATE INDEX ix_token_details_issued_by ON token_details (issued_by)",
    ]
