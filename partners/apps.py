from django.apps import AppConfig


class PartnersConfig(AppConfig):
    name = "partners"

    def ready(self) -> None:
        from accounts.audit_links import link_to, link_to_list, register_audit_links

        register_audit_links("accounts.membership", link_to_list("vendor:people"))
        register_audit_links("partners.partnerorganization", link_to("vendor:partner_detail"))
        register_audit_links("partners.partnertier", link_to("vendor:tier_edit"))
        register_audit_links("partners.invitation", link_to_list("vendor:invitation_list"))
