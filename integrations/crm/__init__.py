"""CRM connectors: one per CRM behind the interface of integrations/crm/base.py."""
