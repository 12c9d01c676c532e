"""Writes of deal registration, split by subdomain: configuration, registrations (the
partner's side), screening, decisions (the vendor's side), protection and alerts."""
