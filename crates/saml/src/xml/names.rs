//! Namespace URIs and the well-known URIs SAML messages carry.

pub const NS_XML: &str = "http://www.w3.org/XML/1998/namespace";
pub const NS_XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";
pub const NS_XS: &str = "http://www.w3.org/2001/XMLSchema";
pub const NS_SAML: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
pub const NS_SAMLP: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
pub const NS_MD: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
pub const NS_DS: &str = "http://www.w3.org/2000/09/xmldsig#";
pub const NS_XENC: &str = "http://www.w3.org/2001/04/xmlenc#";

/// Binding URIs (SAML bindings 3.4, 3.5).
pub const BINDING_HTTP_REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
pub const BINDING_HTTP_POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";

/// NameID formats (SAML core 8.3).
pub const NAMEID_PERSISTENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent";
pub const NAMEID_TRANSIENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient";
pub const NAMEID_EMAIL: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";
pub const NAMEID_UNSPECIFIED: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified";
pub const NAMEID_ENTITY: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity";

/// Attribute name formats.
pub const ATTRNAME_URI: &str = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri";
pub const ATTRNAME_BASIC: &str = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic";
pub const ATTRNAME_UNSPECIFIED: &str = "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified";

/// Subject confirmation method for browser SSO.
pub const CM_BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";

/// Authentication context classes.
pub const AC_PASSWORD_PROTECTED: &str = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport";
pub const AC_PASSWORD: &str = "urn:oasis:names:tc:SAML:2.0:ac:classes:Password";
pub const AC_UNSPECIFIED: &str = "urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified";

/// XML-DSig and XML-Enc algorithm URIs.
pub const ALG_EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
pub const ALG_EXC_C14N_WITH_COMMENTS: &str = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments";
pub const ALG_ENVELOPED_SIGNATURE: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
pub const ALG_RSA_SHA1: &str = "http://www.w3.org/2000/09/xmldsig#rsa-sha1";
pub const ALG_RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
pub const ALG_RSA_SHA384: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384";
pub const ALG_RSA_SHA512: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512";
pub const ALG_SHA1: &str = "http://www.w3.org/2000/09/xmldsig#sha1";
pub const ALG_SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
pub const ALG_SHA384: &str = "http://www.w3.org/2001/04/xmldsig-more#sha384";
pub const ALG_SHA512: &str = "http://www.w3.org/2001/04/xmlenc#sha512";
