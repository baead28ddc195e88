impl serde::Serialize for Bundle {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if true {
            len += 1;
        }
        if true {
            len += 1;
        }
        if true {
            len += 1;
        }
        if true {
            len += 1;
        }
        if true {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("lanyard.types.v1.Bundle", len)?;
        if true {
            struct_ser.serialize_field("trust_domain", &self.trust_domain)?;
        }
        if true {
            struct_ser.serialize_field("x509_authorities", &self.x509_authorities)?;
        }
        if true {
            struct_ser.serialize_field("jwt_authorities", &self.jwt_authorities)?;
        }
        if true {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("sequence_number", ToString::to_string(&self.sequence_number).as_str())?;
        }
        if true {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("refresh_hint_seconds", ToString::to_string(&self.refresh_hint_seconds).as_str())?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for Bundle {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "trust_domain",
            "trustDomain",
            "x509_authorities",
            "x509Authorities",
            "jwt_authorities",
            "jwtAuthorities",
            "sequence_number",
            "sequenceNumber",
            "refresh_hint_seconds",
            "refreshHintSeconds",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            TrustDomain,
            X509Authorities,
            JwtAuthorities,
            SequenceNumber,
            RefreshHintSeconds,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "trustDomain" | "trust_domain" => Ok(GeneratedField::TrustDomain),
                            "x509Authorities" | "x509_authorities" => Ok(GeneratedField::X509Authorities),
                            "jwtAuthorities" | "jwt_authorities" => Ok(GeneratedField::JwtAuthorities),
                            "sequenceNumber" | "sequence_number" => Ok(GeneratedField::SequenceNumber),
                            "refreshHintSeconds" | "refresh_hint_seconds" => Ok(GeneratedField::RefreshHintSeconds),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = Bundle;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.types.v1.Bundle")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<Bundle, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut trust_domain__ = None;
                let mut x509_authorities__ = None;
                let mut jwt_authorities__ = None;
                let mut sequence_number__ = None;
                let mut refresh_hint_seconds__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::TrustDomain => {
                            if trust_domain__.is_some() {
                                return Err(serde::de::Error::duplicate_field("trustDomain"));
                            }
                            trust_domain__ = Some(map_.next_value()?);
                        }
                        GeneratedField::X509Authorities => {
                            if x509_authorities__.is_some() {
                                return Err(serde::de::Error::duplicate_field("x509Authorities"));
                            }
                            x509_authorities__ = Some(map_.next_value()?);
                        }
                        GeneratedField::JwtAuthorities => {
                            if jwt_authorities__.is_some() {
                                return Err(serde::de::Error::duplicate_field("jwtAuthorities"));
                            }
                            jwt_authorities__ = Some(map_.next_value()?);
                        }
                        GeneratedField::SequenceNumber => {
                            if sequence_number__.is_some() {
                                return Err(serde::de::Error::duplicate_field("sequenceNumber"));
                            }
                            sequence_number__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::RefreshHintSeconds => {
                            if refresh_hint_seconds__.is_some() {
                                return Err(serde::de::Error::duplicate_field("refreshHintSeconds"));
                            }
                            refresh_hint_seconds__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                    }
                }
                Ok(Bundle {
                    trust_domain: trust_domain__.unwrap_or_default(),
                    x509_authorities: x509_authorities__.unwrap_or_default(),
                    jwt_authorities: jwt_authorities__.unwrap_or_default(),
                    sequence_number: sequence_number__.unwrap_or_default(),
                    refresh_hint_seconds: refresh_hint_seconds__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("lanyard.types.v1.Bundle", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for Entry {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if true {
            len += 1;
        }
        if true {
            len += 1;
        }
        if true {
            len += 1;
        }
        if true {
            len += 1;
        }
        if true {
            len += 1;
        }
        if true {
            len += 1;
        }
        if true {
            len += 1;
        }
        if true {
            len += 1;
        }
        if true {
            len += 1;
        }
        if true {
            len += 1;
        }
        if true {
            len += 1;
        }
        if true {
            len += 1;
        }
        if true {
            len += 1;
        }
        if true {
            len += 1;
        }
        if true {
            len += 1;
        }
        if true {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("lanyard.types.v1.Entry", len)?;
        if true {
            struct_ser.serialize_field("id", &self.id)?;
        }
        if true {
            struct_ser.serialize_field("spiffe_id", &self.spiffe_id)?;
        }
        if true {
            struct_ser.serialize_field("parent_id", &self.parent_id)?;
        }
        if true {
            struct_ser.serialize_field("selectors", &self.selectors)?;
        }
        if true {
            struct_ser.serialize_field("x509_svid_ttl_seconds", &self.x509_svid_ttl_seconds)?;
        }
        if true {
            struct_ser.serialize_field("jwt_svid_ttl_seconds", &self.jwt_svid_ttl_seconds)?;
        }
        if true {
            struct_ser.serialize_field("dns_names", &self.dns_names)?;
        }
        if true {
            struct_ser.serialize_field("hint", &self.hint)?;
        }
        if true {
            struct_ser.serialize_field("admin", &self.admin)?;
        }
        if true {
            struct_ser.serialize_field("downstream", &self.downstream)?;
        }
        if true {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("expires_at", ToString::to_string(&self.expires_at).as_str())?;
        }
        if true {
            struct_ser.serialize_field("owner", &self.owner)?;
        }
        if true {
            struct_ser.serialize_field("description", &self.description)?;
        }
        if true {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("created_at", ToString::to_string(&self.created_at).as_str())?;
        }
        if true {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("revision", ToString::to_string(&self.revision).as_str())?;
        }
        if true {
            struct_ser.serialize_field("federates_with", &self.federates_with)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for Entry {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "id",
            "spiffe_id",
            "spiffeId",
            "parent_id",
            "parentId",
            "selectors",
            "x509_svid_ttl_seconds",
            "x509SvidTtlSeconds",
            "jwt_svid_ttl_seconds",
            "jwtSvidTtlSeconds",
            "dns_names",
            "dnsNames",
            "hint",
            "admin",
            "downstream",
            "expires_at",
            "expiresAt",
            "owner",
            "description",
            "created_at",
            "createdAt",
            "revision",
            "federates_with",
            "federatesWith",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Id,
            SpiffeId,
            ParentId,
            Selectors,
            X509SvidTtlSeconds,
            JwtSvidTtlSeconds,
            DnsNames,
            Hint,
            Admin,
            Downstream,
            ExpiresAt,
            Owner,
            Description,
            CreatedAt,
            Revision,
            FederatesWith,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "id" => Ok(GeneratedField::Id),
                            "spiffeId" | "spiffe_id" => Ok(GeneratedField::SpiffeId),
                            "parentId" | "parent_id" => Ok(GeneratedField::ParentId),
                            "selectors" => Ok(GeneratedField::Selectors),
                            "x509SvidTtlSeconds" | "x509_svid_ttl_seconds" => Ok(GeneratedField::X509SvidTtlSeconds),
                            "jwtSvidTtlSeconds" | "jwt_svid_ttl_seconds" => Ok(GeneratedField::JwtSvidTtlSeconds),
                            "dnsNames" | "dns_names" => Ok(GeneratedField::DnsNames),
                            "hint" => Ok(GeneratedField::Hint),
                            "admin" => Ok(GeneratedField::Admin),
                            "downstream" => Ok(GeneratedField::Downstream),
                            "expiresAt" | "expires_at" => Ok(GeneratedField::ExpiresAt),
                            "owner" => Ok(GeneratedField::Owner),
                            "description" => Ok(GeneratedField::Description),
                            "createdAt" | "created_at" => Ok(GeneratedField::CreatedAt),
                            "revision" => Ok(GeneratedField::Revision),
                            "federatesWith" | "federates_with" => Ok(GeneratedField::FederatesWith),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = Entry;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.types.v1.Entry")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<Entry, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut id__ = None;
                let mut spiffe_id__ = None;
                let mut parent_id__ = None;
                let mut selectors__ = None;
                let mut x509_svid_ttl_seconds__ = None;
                let mut jwt_svid_ttl_seconds__ = None;
                let mut dns_names__ = None;
                let mut hint__ = None;
                let mut admin__ = None;
                let mut downstream__ = None;
                let mut expires_at__ = None;
                let mut owner__ = None;
                let mut description__ = None;
                let mut created_at__ = None;
                let mut revision__ = None;
                let mut federates_with__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Id => {
                            if id__.is_some() {
                                return Err(serde::de::Error::duplicate_field("id"));
                            }
                            id__ = Some(map_.next_value()?);
                        }
                        GeneratedField::SpiffeId => {
                            if spiffe_id__.is_some() {
                                return Err(serde::de::Error::duplicate_field("spiffeId"));
                            }
                            spiffe_id__ = Some(map_.next_value()?);
                        }
                        GeneratedField::ParentId => {
                            if parent_id__.is_some() {
                                return Err(serde::de::Error::duplicate_field("parentId"));
                            }
                            parent_id__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Selectors => {
                            if selectors__.is_some() {
                                return Err(serde::de::Error::duplicate_field("selectors"));
                            }
                            selectors__ = Some(map_.next_value()?);
                        }
                        GeneratedField::X509SvidTtlSeconds => {
                            if x509_svid_ttl_seconds__.is_some() {
                                return Err(serde::de::Error::duplicate_field("x509SvidTtlSeconds"));
                            }
                            x509_svid_ttl_seconds__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::JwtSvidTtlSeconds => {
                            if jwt_svid_ttl_seconds__.is_some() {
                                return Err(serde::de::Error::duplicate_field("jwtSvidTtlSeconds"));
                            }
                            jwt_svid_ttl_seconds__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::DnsNames => {
                            if dns_names__.is_some() {
                                return Err(serde::de::Error::duplicate_field("dnsNames"));
                            }
                            dns_names__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Hint => {
                            if hint__.is_some() {
                                return Err(serde::de::Error::duplicate_field("hint"));
                            }
                            hint__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Admin => {
                            if admin__.is_some() {
                                return Err(serde::de::Error::duplicate_field("admin"));
                            }
                            admin__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Downstream => {
                            if downstream__.is_some() {
                                return Err(serde::de::Error::duplicate_field("downstream"));
                            }
                            downstream__ = Some(map_.next_value()?);
                        }
                        GeneratedField::ExpiresAt => {
                            if expires_at__.is_some() {
                                return Err(serde::de::Error::duplicate_field("expiresAt"));
                            }
                            expires_at__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Owner => {
                            if owner__.is_some() {
                                return Err(serde::de::Error::duplicate_field("owner"));
                            }
                            owner__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Description => {
                            if description__.is_some() {
                                return Err(serde::de::Error::duplicate_field("description"));
                            }
                            description__ = Some(map_.next_value()?);
                        }
                        GeneratedField::CreatedAt => {
                            if created_at__.is_some() {
                                return Err(serde::de::Error::duplicate_field("createdAt"));
                            }
                            created_at__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Revision => {
                            if revision__.is_some() {
                                return Err(serde::de::Error::duplicate_field("revision"));
                            }
                            revision__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::FederatesWith => {
                            if federates_with__.is_some() {
                                return Err(serde::de::Error::duplicate_field("federatesWith"));
                            }
                            federates_with__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(Entry {
                    id: id__.unwrap_or_default(),
                    spiffe_id: spiffe_id__.unwrap_or_default(),
                    parent_id: parent_id__.unwrap_or_default(),
                    selectors: selectors__.unwrap_or_default(),
                    x509_svid_ttl_seconds: x509_svid_ttl_seconds__.unwrap_or_default(),
                    jwt_svid_ttl_seconds: jwt_svid_ttl_seconds__.unwrap_or_default(),
                    dns_names: dns_names__.unwrap_or_default(),
                    hint: hint__.unwrap_or_default(),
                    admin: admin__.unwrap_or_default(),
                    downstream: downstream__.unwrap_or_default(),
                    expires_at: expires_at__.unwrap_or_default(),
                    owner: owner__.unwrap_or_default(),
                    description: description__.unwrap_or_default(),
                    created_at: created_at__.unwrap_or_default(),
                    revision: revision__.unwrap_or_default(),
                    federates_with: federates_with__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("lanyard.types.v1.Entry", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for GetLoggerRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let len = 0;
        let struct_ser = serializer.serialize_struct("lanyard.types.v1.GetLoggerRequest", len)?;
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for GetLoggerRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                            Err(serde::de::Error::unknown_field(value, FIELDS))
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = GetLoggerRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.types.v1.GetLoggerRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<GetLoggerRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                while map_.next_key::<GeneratedField>()?.is_some() {
                    let _ = map_.next_value::<serde::de::IgnoredAny>()?;
                }
                Ok(GetLoggerRequest {
                })
            }
        }
        deserializer.deserialize_struct("lanyard.types.v1.GetLoggerRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for JwtAuthority {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if true {
            len += 1;
        }
        if true {
            len += 1;
        }
        if true {
            len += 1;
        }
        if true {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("lanyard.types.v1.JwtAuthority", len)?;
        if true {
            struct_ser.serialize_field("key_id", &self.key_id)?;
        }
        if true {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("public_key", pbjson::private::base64::encode(&self.public_key).as_str())?;
        }
        if true {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("expires_at", ToString::to_string(&self.expires_at).as_str())?;
        }
        if true {
            struct_ser.serialize_field("tainted", &self.tainted)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for JwtAuthority {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "key_id",
            "keyId",
            "public_key",
            "publicKey",
            "expires_at",
            "expiresAt",
            "tainted",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            KeyId,
            PublicKey,
            ExpiresAt,
            Tainted,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "keyId" | "key_id" => Ok(GeneratedField::KeyId),
                            "publicKey" | "public_key" => Ok(GeneratedField::PublicKey),
                            "expiresAt" | "expires_at" => Ok(GeneratedField::ExpiresAt),
                            "tainted" => Ok(GeneratedField::Tainted),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = JwtAuthority;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.types.v1.JwtAuthority")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<JwtAuthority, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut key_id__ = None;
                let mut public_key__ = None;
                let mut expires_at__ = None;
                let mut tainted__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::KeyId => {
                            if key_id__.is_some() {
                                return Err(serde::de::Error::duplicate_field("keyId"));
                            }
                            key_id__ = Some(map_.next_value()?);
                        }
                        GeneratedField::PublicKey => {
                            if public_key__.is_some() {
                                return Err(serde::de::Error::duplicate_field("publicKey"));
                            }
                            public_key__ = 
                                Some(map_.next_value::<::pbjson::private::BytesDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::ExpiresAt => {
                            if expires_at__.is_some() {
                                return Err(serde::de::Error::duplicate_field("expiresAt"));
                            }
                            expires_at__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Tainted => {
                            if tainted__.is_some() {
                                return Err(serde::de::Error::duplicate_field("tainted"));
                            }
                            tainted__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(JwtAuthority {
                    key_id: key_id__.unwrap_or_default(),
                    public_key: public_key__.unwrap_or_default(),
                    expires_at: expires_at__.unwrap_or_default(),
                    tainted: tainted__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("lanyard.types.v1.JwtAuthority", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for JwtSvid {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if true {
            len += 1;
        }
        if true {
            len += 1;
        }
        if true {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("lanyard.types.v1.JwtSvid", len)?;
        if true {
            struct_ser.serialize_field("token", &self.token)?;
        }
        if true {
            struct_ser.serialize_field("spiffe_id", &self.spiffe_id)?;
        }
        if true {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("expires_at", ToString::to_string(&self.expires_at).as_str())?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for JwtSvid {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "token",
            "spiffe_id",
            "spiffeId",
            "expires_at",
            "expiresAt",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Token,
            SpiffeId,
            ExpiresAt,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "token" => Ok(GeneratedField::Token),
                            "spiffeId" | "spiffe_id" => Ok(GeneratedField::SpiffeId),
                            "expiresAt" | "expires_at" => Ok(GeneratedField::ExpiresAt),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = JwtSvid;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.types.v1.JwtSvid")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<JwtSvid, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut token__ = None;
                let mut spiffe_id__ = None;
                let mut expires_at__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Token => {
                            if token__.is_some() {
                                return Err(serde::de::Error::duplicate_field("token"));
                            }
                            token__ = Some(map_.next_value()?);
                        }
                        GeneratedField::SpiffeId => {
                            if spiffe_id__.is_some() {
                                return Err(serde::de::Error::duplicate_field("spiffeId"));
                            }
                            spiffe_id__ = Some(map_.next_value()?);
                        }
                        GeneratedField::ExpiresAt => {
                            if expires_at__.is_some() {
                                return Err(serde::de::Error::duplicate_field("expiresAt"));
                            }
                            expires_at__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                    }
                }
                Ok(JwtSvid {
                    token: token__.unwrap_or_default(),
                    spiffe_id: spiffe_id__.unwrap_or_default(),
                    expires_at: expires_at__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("lanyard.types.v1.JwtSvid", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for Logger {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if true {
            len += 1;
        }
        if true {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("lanyard.types.v1.Logger", len)?;
        if true {
            struct_ser.serialize_field("current_level", &self.current_level)?;
        }
        if true {
            struct_ser.serialize_field("launch_level", &self.launch_level)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for Logger {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "current_level",
            "currentLevel",
            "launch_level",
            "launchLevel",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            CurrentLevel,
            LaunchLevel,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "currentLevel" | "current_level" => Ok(GeneratedField::CurrentLevel),
                            "launchLevel" | "launch_level" => Ok(GeneratedField::LaunchLevel),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = Logger;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.types.v1.Logger")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<Logger, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut current_level__ = None;
                let mut launch_level__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::CurrentLevel => {
                            if current_level__.is_some() {
                                return Err(serde::de::Error::duplicate_field("currentLevel"));
                            }
                            current_level__ = Some(map_.next_value()?);
                        }
                        GeneratedField::LaunchLevel => {
                            if launch_level__.is_some() {
                                return Err(serde::de::Error::duplicate_field("launchLevel"));
                            }
                            launch_level__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(Logger {
                    current_level: current_level__.unwrap_or_default(),
                    launch_level: launch_level__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("lanyard.types.v1.Logger", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ResetLogLevelRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let len = 0;
        let struct_ser = serializer.serialize_struct("lanyard.types.v1.ResetLogLevelRequest", len)?;
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ResetLogLevelRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                            Err(serde::de::Error::unknown_field(value, FIELDS))
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = ResetLogLevelRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.types.v1.ResetLogLevelRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ResetLogLevelRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                while map_.next_key::<GeneratedField>()?.is_some() {
                    let _ = map_.next_value::<serde::de::IgnoredAny>()?;
                }
                Ok(ResetLogLevelRequest {
                })
            }
        }
        deserializer.deserialize_struct("lanyard.types.v1.ResetLogLevelRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for Selector {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if true {
            len += 1;
        }
        if true {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("lanyard.types.v1.Selector", len)?;
        if true {
            struct_ser.serialize_field("type", &self.r#type)?;
        }
        if true {
            struct_ser.serialize_field("value", &self.value)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for Selector {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "type",
            "value",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Type,
            Value,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "type" => Ok(GeneratedField::Type),
                            "value" => Ok(GeneratedField::Value),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = Selector;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.types.v1.Selector")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<Selector, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut r#type__ = None;
                let mut value__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Type => {
                            if r#type__.is_some() {
                                return Err(serde::de::Error::duplicate_field("type"));
                            }
                            r#type__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Value => {
                            if value__.is_some() {
                                return Err(serde::de::Error::duplicate_field("value"));
                            }
                            value__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(Selector {
                    r#type: r#type__.unwrap_or_default(),
                    value: value__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("lanyard.types.v1.Selector", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for SetLogLevelRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if true {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("lanyard.types.v1.SetLogLevelRequest", len)?;
        if true {
            struct_ser.serialize_field("level", &self.level)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for SetLogLevelRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "level",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Level,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "level" => Ok(GeneratedField::Level),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = SetLogLevelRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.types.v1.SetLogLevelRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<SetLogLevelRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut level__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Level => {
                            if level__.is_some() {
                                return Err(serde::de::Error::duplicate_field("level"));
                            }
                            level__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(SetLogLevelRequest {
                    level: level__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("lanyard.types.v1.SetLogLevelRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for Status {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if true {
            len += 1;
        }
        if true {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("lanyard.types.v1.Status", len)?;
        if true {
            struct_ser.serialize_field("code", &self.code)?;
        }
        if true {
            struct_ser.serialize_field("message", &self.message)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for Status {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "code",
            "message",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Code,
            Message,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "code" => Ok(GeneratedField::Code),
                            "message" => Ok(GeneratedField::Message),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = Status;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.types.v1.Status")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<Status, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut code__ = None;
                let mut message__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Code => {
                            if code__.is_some() {
                                return Err(serde::de::Error::duplicate_field("code"));
                            }
                            code__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Message => {
                            if message__.is_some() {
                                return Err(serde::de::Error::duplicate_field("message"));
                            }
                            message__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(Status {
                    code: code__.unwrap_or_default(),
                    message: message__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("lanyard.types.v1.Status", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for X509Authority {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if true {
            len += 1;
        }
        if true {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("lanyard.types.v1.X509Authority", len)?;
        if true {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("asn1", pbjson::private::base64::encode(&self.asn1).as_str())?;
        }
        if true {
            struct_ser.serialize_field("tainted", &self.tainted)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for X509Authority {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "asn1",
            "tainted",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Asn1,
            Tainted,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "asn1" => Ok(GeneratedField::Asn1),
                            "tainted" => Ok(GeneratedField::Tainted),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = X509Authority;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.types.v1.X509Authority")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<X509Authority, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut asn1__ = None;
                let mut tainted__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Asn1 => {
                            if asn1__.is_some() {
                                return Err(serde::de::Error::duplicate_field("asn1"));
                            }
                            asn1__ = 
                                Some(map_.next_value::<::pbjson::private::BytesDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Tainted => {
                            if tainted__.is_some() {
                                return Err(serde::de::Error::duplicate_field("tainted"));
                            }
                            tainted__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(X509Authority {
                    asn1: asn1__.unwrap_or_default(),
                    tainted: tainted__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("lanyard.types.v1.X509Authority", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for X509Svid {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if true {
            len += 1;
        }
        if true {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("lanyard.types.v1.X509Svid", len)?;
        if true {
            struct_ser.serialize_field("cert_chain", &self.cert_chain.iter().map(pbjson::private::base64::encode).collect::<Vec<_>>())?;
        }
        if true {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("expires_at", ToString::to_string(&self.expires_at).as_str())?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for X509Svid {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "cert_chain",
            "certChain",
            "expires_at",
            "expiresAt",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            CertChain,
            ExpiresAt,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "certChain" | "cert_chain" => Ok(GeneratedField::CertChain),
                            "expiresAt" | "expires_at" => Ok(GeneratedField::ExpiresAt),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = X509Svid;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.types.v1.X509Svid")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<X509Svid, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut cert_chain__ = None;
                let mut expires_at__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::CertChain => {
                            if cert_chain__.is_some() {
                                return Err(serde::de::Error::duplicate_field("certChain"));
                            }
                            cert_chain__ = 
                                Some(map_.next_value::<Vec<::pbjson::private::BytesDeserialize<_>>>()?
                                    .into_iter().map(|x| x.0).collect())
                            ;
                        }
                        GeneratedField::ExpiresAt => {
                            if expires_at__.is_some() {
                                return Err(serde::de::Error::duplicate_field("expiresAt"));
                            }
                            expires_at__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                    }
                }
                Ok(X509Svid {
                    cert_chain: cert_chain__.unwrap_or_default(),
                    expires_at: expires_at__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("lanyard.types.v1.X509Svid", FIELDS, GeneratedVisitor)
    }
}
