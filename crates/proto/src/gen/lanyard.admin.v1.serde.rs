impl serde::Serialize for ActivateJwtAuthorityRequest {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.ActivateJwtAuthorityRequest", len)?;
        if true {
            struct_ser.serialize_field("authority_id", &self.authority_id)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ActivateJwtAuthorityRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "authority_id",
            "authorityId",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            AuthorityId,
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
                            "authorityId" | "authority_id" => Ok(GeneratedField::AuthorityId),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = ActivateJwtAuthorityRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.ActivateJwtAuthorityRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ActivateJwtAuthorityRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut authority_id__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::AuthorityId => {
                            if authority_id__.is_some() {
                                return Err(serde::de::Error::duplicate_field("authorityId"));
                            }
                            authority_id__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(ActivateJwtAuthorityRequest {
                    authority_id: authority_id__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.ActivateJwtAuthorityRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ActivateJwtAuthorityResponse {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.ActivateJwtAuthorityResponse", len)?;
        if let Some(v) = self.activated.as_ref() {
            struct_ser.serialize_field("activated", v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ActivateJwtAuthorityResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "activated",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Activated,
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
                            "activated" => Ok(GeneratedField::Activated),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = ActivateJwtAuthorityResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.ActivateJwtAuthorityResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ActivateJwtAuthorityResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut activated__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Activated => {
                            if activated__.is_some() {
                                return Err(serde::de::Error::duplicate_field("activated"));
                            }
                            activated__ = map_.next_value()?;
                        }
                    }
                }
                Ok(ActivateJwtAuthorityResponse {
                    activated: activated__,
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.ActivateJwtAuthorityResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ActivateX509AuthorityRequest {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.ActivateX509AuthorityRequest", len)?;
        if true {
            struct_ser.serialize_field("authority_id", &self.authority_id)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ActivateX509AuthorityRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "authority_id",
            "authorityId",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            AuthorityId,
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
                            "authorityId" | "authority_id" => Ok(GeneratedField::AuthorityId),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = ActivateX509AuthorityRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.ActivateX509AuthorityRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ActivateX509AuthorityRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut authority_id__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::AuthorityId => {
                            if authority_id__.is_some() {
                                return Err(serde::de::Error::duplicate_field("authorityId"));
                            }
                            authority_id__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(ActivateX509AuthorityRequest {
                    authority_id: authority_id__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.ActivateX509AuthorityRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ActivateX509AuthorityResponse {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.ActivateX509AuthorityResponse", len)?;
        if let Some(v) = self.activated.as_ref() {
            struct_ser.serialize_field("activated", v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ActivateX509AuthorityResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "activated",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Activated,
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
                            "activated" => Ok(GeneratedField::Activated),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = ActivateX509AuthorityResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.ActivateX509AuthorityResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ActivateX509AuthorityResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut activated__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Activated => {
                            if activated__.is_some() {
                                return Err(serde::de::Error::duplicate_field("activated"));
                            }
                            activated__ = map_.next_value()?;
                        }
                    }
                }
                Ok(ActivateX509AuthorityResponse {
                    activated: activated__,
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.ActivateX509AuthorityResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for Agent {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.Agent", len)?;
        if true {
            struct_ser.serialize_field("spiffe_id", &self.spiffe_id)?;
        }
        if true {
            struct_ser.serialize_field("attestation_type", &self.attestation_type)?;
        }
        if true {
            struct_ser.serialize_field("x509_svid_serial_number", &self.x509_svid_serial_number)?;
        }
        if true {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("x509_svid_expires_at", ToString::to_string(&self.x509_svid_expires_at).as_str())?;
        }
        if true {
            struct_ser.serialize_field("banned", &self.banned)?;
        }
        if true {
            struct_ser.serialize_field("selectors", &self.selectors)?;
        }
        if true {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("created_at", ToString::to_string(&self.created_at).as_str())?;
        }
        if true {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("last_seen_at", ToString::to_string(&self.last_seen_at).as_str())?;
        }
        if true {
            struct_ser.serialize_field("reattestable", &self.reattestable)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for Agent {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "spiffe_id",
            "spiffeId",
            "attestation_type",
            "attestationType",
            "x509_svid_serial_number",
            "x509SvidSerialNumber",
            "x509_svid_expires_at",
            "x509SvidExpiresAt",
            "banned",
            "selectors",
            "created_at",
            "createdAt",
            "last_seen_at",
            "lastSeenAt",
            "reattestable",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            SpiffeId,
            AttestationType,
            X509SvidSerialNumber,
            X509SvidExpiresAt,
            Banned,
            Selectors,
            CreatedAt,
            LastSeenAt,
            Reattestable,
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
                            "spiffeId" | "spiffe_id" => Ok(GeneratedField::SpiffeId),
                            "attestationType" | "attestation_type" => Ok(GeneratedField::AttestationType),
                            "x509SvidSerialNumber" | "x509_svid_serial_number" => Ok(GeneratedField::X509SvidSerialNumber),
                            "x509SvidExpiresAt" | "x509_svid_expires_at" => Ok(GeneratedField::X509SvidExpiresAt),
                            "banned" => Ok(GeneratedField::Banned),
                            "selectors" => Ok(GeneratedField::Selectors),
                            "createdAt" | "created_at" => Ok(GeneratedField::CreatedAt),
                            "lastSeenAt" | "last_seen_at" => Ok(GeneratedField::LastSeenAt),
                            "reattestable" => Ok(GeneratedField::Reattestable),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = Agent;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.Agent")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<Agent, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut spiffe_id__ = None;
                let mut attestation_type__ = None;
                let mut x509_svid_serial_number__ = None;
                let mut x509_svid_expires_at__ = None;
                let mut banned__ = None;
                let mut selectors__ = None;
                let mut created_at__ = None;
                let mut last_seen_at__ = None;
                let mut reattestable__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::SpiffeId => {
                            if spiffe_id__.is_some() {
                                return Err(serde::de::Error::duplicate_field("spiffeId"));
                            }
                            spiffe_id__ = Some(map_.next_value()?);
                        }
                        GeneratedField::AttestationType => {
                            if attestation_type__.is_some() {
                                return Err(serde::de::Error::duplicate_field("attestationType"));
                            }
                            attestation_type__ = Some(map_.next_value()?);
                        }
                        GeneratedField::X509SvidSerialNumber => {
                            if x509_svid_serial_number__.is_some() {
                                return Err(serde::de::Error::duplicate_field("x509SvidSerialNumber"));
                            }
                            x509_svid_serial_number__ = Some(map_.next_value()?);
                        }
                        GeneratedField::X509SvidExpiresAt => {
                            if x509_svid_expires_at__.is_some() {
                                return Err(serde::de::Error::duplicate_field("x509SvidExpiresAt"));
                            }
                            x509_svid_expires_at__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Banned => {
                            if banned__.is_some() {
                                return Err(serde::de::Error::duplicate_field("banned"));
                            }
                            banned__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Selectors => {
                            if selectors__.is_some() {
                                return Err(serde::de::Error::duplicate_field("selectors"));
                            }
                            selectors__ = Some(map_.next_value()?);
                        }
                        GeneratedField::CreatedAt => {
                            if created_at__.is_some() {
                                return Err(serde::de::Error::duplicate_field("createdAt"));
                            }
                            created_at__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::LastSeenAt => {
                            if last_seen_at__.is_some() {
                                return Err(serde::de::Error::duplicate_field("lastSeenAt"));
                            }
                            last_seen_at__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Reattestable => {
                            if reattestable__.is_some() {
                                return Err(serde::de::Error::duplicate_field("reattestable"));
                            }
                            reattestable__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(Agent {
                    spiffe_id: spiffe_id__.unwrap_or_default(),
                    attestation_type: attestation_type__.unwrap_or_default(),
                    x509_svid_serial_number: x509_svid_serial_number__.unwrap_or_default(),
                    x509_svid_expires_at: x509_svid_expires_at__.unwrap_or_default(),
                    banned: banned__.unwrap_or_default(),
                    selectors: selectors__.unwrap_or_default(),
                    created_at: created_at__.unwrap_or_default(),
                    last_seen_at: last_seen_at__.unwrap_or_default(),
                    reattestable: reattestable__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.Agent", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for AgentFilter {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.AgentFilter", len)?;
        if let Some(v) = self.attestation_type.as_ref() {
            struct_ser.serialize_field("attestation_type", v)?;
        }
        if let Some(v) = self.banned.as_ref() {
            struct_ser.serialize_field("banned", v)?;
        }
        if let Some(v) = self.selectors.as_ref() {
            struct_ser.serialize_field("selectors", v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for AgentFilter {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "attestation_type",
            "attestationType",
            "banned",
            "selectors",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            AttestationType,
            Banned,
            Selectors,
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
                            "attestationType" | "attestation_type" => Ok(GeneratedField::AttestationType),
                            "banned" => Ok(GeneratedField::Banned),
                            "selectors" => Ok(GeneratedField::Selectors),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = AgentFilter;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.AgentFilter")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<AgentFilter, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut attestation_type__ = None;
                let mut banned__ = None;
                let mut selectors__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::AttestationType => {
                            if attestation_type__.is_some() {
                                return Err(serde::de::Error::duplicate_field("attestationType"));
                            }
                            attestation_type__ = map_.next_value()?;
                        }
                        GeneratedField::Banned => {
                            if banned__.is_some() {
                                return Err(serde::de::Error::duplicate_field("banned"));
                            }
                            banned__ = map_.next_value()?;
                        }
                        GeneratedField::Selectors => {
                            if selectors__.is_some() {
                                return Err(serde::de::Error::duplicate_field("selectors"));
                            }
                            selectors__ = map_.next_value()?;
                        }
                    }
                }
                Ok(AgentFilter {
                    attestation_type: attestation_type__,
                    banned: banned__,
                    selectors: selectors__,
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.AgentFilter", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for AuthorityState {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        let variant = match self {
            Self::Unspecified => "AUTHORITY_STATE_UNSPECIFIED",
            Self::Prepared => "AUTHORITY_STATE_PREPARED",
            Self::Active => "AUTHORITY_STATE_ACTIVE",
            Self::Old => "AUTHORITY_STATE_OLD",
        };
        serializer.serialize_str(variant)
    }
}
impl<'de> serde::Deserialize<'de> for AuthorityState {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "AUTHORITY_STATE_UNSPECIFIED",
            "AUTHORITY_STATE_PREPARED",
            "AUTHORITY_STATE_ACTIVE",
            "AUTHORITY_STATE_OLD",
        ];

        struct GeneratedVisitor;

        impl serde::de::Visitor<'_> for GeneratedVisitor {
            type Value = AuthorityState;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(formatter, "expected one of: {:?}", &FIELDS)
            }

            fn visit_i64<E>(self, v: i64) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                i32::try_from(v)
                    .ok()
                    .and_then(|x| x.try_into().ok())
                    .ok_or_else(|| {
                        serde::de::Error::invalid_value(serde::de::Unexpected::Signed(v), &self)
                    })
            }

            fn visit_u64<E>(self, v: u64) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                i32::try_from(v)
                    .ok()
                    .and_then(|x| x.try_into().ok())
                    .ok_or_else(|| {
                        serde::de::Error::invalid_value(serde::de::Unexpected::Unsigned(v), &self)
                    })
            }

            fn visit_str<E>(self, value: &str) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                match value {
                    "AUTHORITY_STATE_UNSPECIFIED" => Ok(AuthorityState::Unspecified),
                    "AUTHORITY_STATE_PREPARED" => Ok(AuthorityState::Prepared),
                    "AUTHORITY_STATE_ACTIVE" => Ok(AuthorityState::Active),
                    "AUTHORITY_STATE_OLD" => Ok(AuthorityState::Old),
                    _ => Err(serde::de::Error::unknown_variant(value, FIELDS)),
                }
            }
        }
        deserializer.deserialize_any(GeneratedVisitor)
    }
}
impl serde::Serialize for BanAgentRequest {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.BanAgentRequest", len)?;
        if true {
            struct_ser.serialize_field("spiffe_id", &self.spiffe_id)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for BanAgentRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "spiffe_id",
            "spiffeId",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            SpiffeId,
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
                            "spiffeId" | "spiffe_id" => Ok(GeneratedField::SpiffeId),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = BanAgentRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.BanAgentRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<BanAgentRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut spiffe_id__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::SpiffeId => {
                            if spiffe_id__.is_some() {
                                return Err(serde::de::Error::duplicate_field("spiffeId"));
                            }
                            spiffe_id__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(BanAgentRequest {
                    spiffe_id: spiffe_id__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.BanAgentRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for BanAgentResponse {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let len = 0;
        let struct_ser = serializer.serialize_struct("lanyard.admin.v1.BanAgentResponse", len)?;
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for BanAgentResponse {
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
            type Value = BanAgentResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.BanAgentResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<BanAgentResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                while map_.next_key::<GeneratedField>()?.is_some() {
                    let _ = map_.next_value::<serde::de::IgnoredAny>()?;
                }
                Ok(BanAgentResponse {
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.BanAgentResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for BatchCreateEntriesRequest {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.BatchCreateEntriesRequest", len)?;
        if true {
            struct_ser.serialize_field("entries", &self.entries)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for BatchCreateEntriesRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "entries",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Entries,
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
                            "entries" => Ok(GeneratedField::Entries),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = BatchCreateEntriesRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.BatchCreateEntriesRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<BatchCreateEntriesRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut entries__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Entries => {
                            if entries__.is_some() {
                                return Err(serde::de::Error::duplicate_field("entries"));
                            }
                            entries__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(BatchCreateEntriesRequest {
                    entries: entries__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.BatchCreateEntriesRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for BatchCreateEntriesResponse {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.BatchCreateEntriesResponse", len)?;
        if true {
            struct_ser.serialize_field("results", &self.results)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for BatchCreateEntriesResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "results",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Results,
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
                            "results" => Ok(GeneratedField::Results),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = BatchCreateEntriesResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.BatchCreateEntriesResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<BatchCreateEntriesResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut results__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Results => {
                            if results__.is_some() {
                                return Err(serde::de::Error::duplicate_field("results"));
                            }
                            results__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(BatchCreateEntriesResponse {
                    results: results__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.BatchCreateEntriesResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for BundleEndpointProfile {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        let variant = match self {
            Self::Unspecified => "BUNDLE_ENDPOINT_PROFILE_UNSPECIFIED",
            Self::HttpsWeb => "BUNDLE_ENDPOINT_PROFILE_HTTPS_WEB",
            Self::HttpsSpiffe => "BUNDLE_ENDPOINT_PROFILE_HTTPS_SPIFFE",
        };
        serializer.serialize_str(variant)
    }
}
impl<'de> serde::Deserialize<'de> for BundleEndpointProfile {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "BUNDLE_ENDPOINT_PROFILE_UNSPECIFIED",
            "BUNDLE_ENDPOINT_PROFILE_HTTPS_WEB",
            "BUNDLE_ENDPOINT_PROFILE_HTTPS_SPIFFE",
        ];

        struct GeneratedVisitor;

        impl serde::de::Visitor<'_> for GeneratedVisitor {
            type Value = BundleEndpointProfile;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(formatter, "expected one of: {:?}", &FIELDS)
            }

            fn visit_i64<E>(self, v: i64) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                i32::try_from(v)
                    .ok()
                    .and_then(|x| x.try_into().ok())
                    .ok_or_else(|| {
                        serde::de::Error::invalid_value(serde::de::Unexpected::Signed(v), &self)
                    })
            }

            fn visit_u64<E>(self, v: u64) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                i32::try_from(v)
                    .ok()
                    .and_then(|x| x.try_into().ok())
                    .ok_or_else(|| {
                        serde::de::Error::invalid_value(serde::de::Unexpected::Unsigned(v), &self)
                    })
            }

            fn visit_str<E>(self, value: &str) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                match value {
                    "BUNDLE_ENDPOINT_PROFILE_UNSPECIFIED" => Ok(BundleEndpointProfile::Unspecified),
                    "BUNDLE_ENDPOINT_PROFILE_HTTPS_WEB" => Ok(BundleEndpointProfile::HttpsWeb),
                    "BUNDLE_ENDPOINT_PROFILE_HTTPS_SPIFFE" => Ok(BundleEndpointProfile::HttpsSpiffe),
                    _ => Err(serde::de::Error::unknown_variant(value, FIELDS)),
                }
            }
        }
        deserializer.deserialize_any(GeneratedVisitor)
    }
}
impl serde::Serialize for CountEntriesRequest {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.CountEntriesRequest", len)?;
        if let Some(v) = self.filter.as_ref() {
            struct_ser.serialize_field("filter", v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for CountEntriesRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "filter",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Filter,
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
                            "filter" => Ok(GeneratedField::Filter),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = CountEntriesRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.CountEntriesRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<CountEntriesRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut filter__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Filter => {
                            if filter__.is_some() {
                                return Err(serde::de::Error::duplicate_field("filter"));
                            }
                            filter__ = map_.next_value()?;
                        }
                    }
                }
                Ok(CountEntriesRequest {
                    filter: filter__,
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.CountEntriesRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for CountEntriesResponse {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.CountEntriesResponse", len)?;
        if true {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("count", ToString::to_string(&self.count).as_str())?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for CountEntriesResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "count",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Count,
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
                            "count" => Ok(GeneratedField::Count),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = CountEntriesResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.CountEntriesResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<CountEntriesResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut count__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Count => {
                            if count__.is_some() {
                                return Err(serde::de::Error::duplicate_field("count"));
                            }
                            count__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                    }
                }
                Ok(CountEntriesResponse {
                    count: count__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.CountEntriesResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for CreateEntryRequest {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.CreateEntryRequest", len)?;
        if let Some(v) = self.entry.as_ref() {
            struct_ser.serialize_field("entry", v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for CreateEntryRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "entry",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Entry,
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
                            "entry" => Ok(GeneratedField::Entry),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = CreateEntryRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.CreateEntryRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<CreateEntryRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut entry__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Entry => {
                            if entry__.is_some() {
                                return Err(serde::de::Error::duplicate_field("entry"));
                            }
                            entry__ = map_.next_value()?;
                        }
                    }
                }
                Ok(CreateEntryRequest {
                    entry: entry__,
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.CreateEntryRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for CreateEntryResponse {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.CreateEntryResponse", len)?;
        if let Some(v) = self.entry.as_ref() {
            struct_ser.serialize_field("entry", v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for CreateEntryResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "entry",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Entry,
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
                            "entry" => Ok(GeneratedField::Entry),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = CreateEntryResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.CreateEntryResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<CreateEntryResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut entry__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Entry => {
                            if entry__.is_some() {
                                return Err(serde::de::Error::duplicate_field("entry"));
                            }
                            entry__ = map_.next_value()?;
                        }
                    }
                }
                Ok(CreateEntryResponse {
                    entry: entry__,
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.CreateEntryResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for CreateFederationRelationshipRequest {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.CreateFederationRelationshipRequest", len)?;
        if let Some(v) = self.relationship.as_ref() {
            struct_ser.serialize_field("relationship", v)?;
        }
        if let Some(v) = self.bootstrap_bundle.as_ref() {
            struct_ser.serialize_field("bootstrap_bundle", v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for CreateFederationRelationshipRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "relationship",
            "bootstrap_bundle",
            "bootstrapBundle",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Relationship,
            BootstrapBundle,
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
                            "relationship" => Ok(GeneratedField::Relationship),
                            "bootstrapBundle" | "bootstrap_bundle" => Ok(GeneratedField::BootstrapBundle),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = CreateFederationRelationshipRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.CreateFederationRelationshipRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<CreateFederationRelationshipRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut relationship__ = None;
                let mut bootstrap_bundle__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Relationship => {
                            if relationship__.is_some() {
                                return Err(serde::de::Error::duplicate_field("relationship"));
                            }
                            relationship__ = map_.next_value()?;
                        }
                        GeneratedField::BootstrapBundle => {
                            if bootstrap_bundle__.is_some() {
                                return Err(serde::de::Error::duplicate_field("bootstrapBundle"));
                            }
                            bootstrap_bundle__ = map_.next_value()?;
                        }
                    }
                }
                Ok(CreateFederationRelationshipRequest {
                    relationship: relationship__,
                    bootstrap_bundle: bootstrap_bundle__,
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.CreateFederationRelationshipRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for CreateFederationRelationshipResponse {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.CreateFederationRelationshipResponse", len)?;
        if let Some(v) = self.relationship.as_ref() {
            struct_ser.serialize_field("relationship", v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for CreateFederationRelationshipResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "relationship",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Relationship,
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
                            "relationship" => Ok(GeneratedField::Relationship),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = CreateFederationRelationshipResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.CreateFederationRelationshipResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<CreateFederationRelationshipResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut relationship__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Relationship => {
                            if relationship__.is_some() {
                                return Err(serde::de::Error::duplicate_field("relationship"));
                            }
                            relationship__ = map_.next_value()?;
                        }
                    }
                }
                Ok(CreateFederationRelationshipResponse {
                    relationship: relationship__,
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.CreateFederationRelationshipResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for DeleteEntryRequest {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.DeleteEntryRequest", len)?;
        if true {
            struct_ser.serialize_field("id", &self.id)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for DeleteEntryRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "id",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Id,
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
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = DeleteEntryRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.DeleteEntryRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<DeleteEntryRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut id__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Id => {
                            if id__.is_some() {
                                return Err(serde::de::Error::duplicate_field("id"));
                            }
                            id__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(DeleteEntryRequest {
                    id: id__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.DeleteEntryRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for DeleteEntryResponse {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let len = 0;
        let struct_ser = serializer.serialize_struct("lanyard.admin.v1.DeleteEntryResponse", len)?;
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for DeleteEntryResponse {
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
            type Value = DeleteEntryResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.DeleteEntryResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<DeleteEntryResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                while map_.next_key::<GeneratedField>()?.is_some() {
                    let _ = map_.next_value::<serde::de::IgnoredAny>()?;
                }
                Ok(DeleteEntryResponse {
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.DeleteEntryResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for DeleteFederatedBundleRequest {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.DeleteFederatedBundleRequest", len)?;
        if true {
            struct_ser.serialize_field("trust_domain", &self.trust_domain)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for DeleteFederatedBundleRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "trust_domain",
            "trustDomain",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            TrustDomain,
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
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = DeleteFederatedBundleRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.DeleteFederatedBundleRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<DeleteFederatedBundleRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut trust_domain__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::TrustDomain => {
                            if trust_domain__.is_some() {
                                return Err(serde::de::Error::duplicate_field("trustDomain"));
                            }
                            trust_domain__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(DeleteFederatedBundleRequest {
                    trust_domain: trust_domain__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.DeleteFederatedBundleRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for DeleteFederatedBundleResponse {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let len = 0;
        let struct_ser = serializer.serialize_struct("lanyard.admin.v1.DeleteFederatedBundleResponse", len)?;
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for DeleteFederatedBundleResponse {
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
            type Value = DeleteFederatedBundleResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.DeleteFederatedBundleResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<DeleteFederatedBundleResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                while map_.next_key::<GeneratedField>()?.is_some() {
                    let _ = map_.next_value::<serde::de::IgnoredAny>()?;
                }
                Ok(DeleteFederatedBundleResponse {
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.DeleteFederatedBundleResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for DeleteFederationRelationshipRequest {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.DeleteFederationRelationshipRequest", len)?;
        if true {
            struct_ser.serialize_field("trust_domain", &self.trust_domain)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for DeleteFederationRelationshipRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "trust_domain",
            "trustDomain",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            TrustDomain,
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
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = DeleteFederationRelationshipRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.DeleteFederationRelationshipRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<DeleteFederationRelationshipRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut trust_domain__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::TrustDomain => {
                            if trust_domain__.is_some() {
                                return Err(serde::de::Error::duplicate_field("trustDomain"));
                            }
                            trust_domain__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(DeleteFederationRelationshipRequest {
                    trust_domain: trust_domain__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.DeleteFederationRelationshipRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for DeleteFederationRelationshipResponse {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let len = 0;
        let struct_ser = serializer.serialize_struct("lanyard.admin.v1.DeleteFederationRelationshipResponse", len)?;
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for DeleteFederationRelationshipResponse {
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
            type Value = DeleteFederationRelationshipResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.DeleteFederationRelationshipResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<DeleteFederationRelationshipResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                while map_.next_key::<GeneratedField>()?.is_some() {
                    let _ = map_.next_value::<serde::de::IgnoredAny>()?;
                }
                Ok(DeleteFederationRelationshipResponse {
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.DeleteFederationRelationshipResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for EntryFilter {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.EntryFilter", len)?;
        if let Some(v) = self.spiffe_id.as_ref() {
            struct_ser.serialize_field("spiffe_id", v)?;
        }
        if let Some(v) = self.parent_id.as_ref() {
            struct_ser.serialize_field("parent_id", v)?;
        }
        if let Some(v) = self.selectors.as_ref() {
            struct_ser.serialize_field("selectors", v)?;
        }
        if let Some(v) = self.federates_with.as_ref() {
            struct_ser.serialize_field("federates_with", v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for EntryFilter {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "spiffe_id",
            "spiffeId",
            "parent_id",
            "parentId",
            "selectors",
            "federates_with",
            "federatesWith",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            SpiffeId,
            ParentId,
            Selectors,
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
                            "spiffeId" | "spiffe_id" => Ok(GeneratedField::SpiffeId),
                            "parentId" | "parent_id" => Ok(GeneratedField::ParentId),
                            "selectors" => Ok(GeneratedField::Selectors),
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
            type Value = EntryFilter;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.EntryFilter")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<EntryFilter, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut spiffe_id__ = None;
                let mut parent_id__ = None;
                let mut selectors__ = None;
                let mut federates_with__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::SpiffeId => {
                            if spiffe_id__.is_some() {
                                return Err(serde::de::Error::duplicate_field("spiffeId"));
                            }
                            spiffe_id__ = map_.next_value()?;
                        }
                        GeneratedField::ParentId => {
                            if parent_id__.is_some() {
                                return Err(serde::de::Error::duplicate_field("parentId"));
                            }
                            parent_id__ = map_.next_value()?;
                        }
                        GeneratedField::Selectors => {
                            if selectors__.is_some() {
                                return Err(serde::de::Error::duplicate_field("selectors"));
                            }
                            selectors__ = map_.next_value()?;
                        }
                        GeneratedField::FederatesWith => {
                            if federates_with__.is_some() {
                                return Err(serde::de::Error::duplicate_field("federatesWith"));
                            }
                            federates_with__ = map_.next_value()?;
                        }
                    }
                }
                Ok(EntryFilter {
                    spiffe_id: spiffe_id__,
                    parent_id: parent_id__,
                    selectors: selectors__,
                    federates_with: federates_with__,
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.EntryFilter", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for EntryResult {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.result.is_some() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.EntryResult", len)?;
        if let Some(v) = self.result.as_ref() {
            match v {
                entry_result::Result::Entry(v) => {
                    struct_ser.serialize_field("entry", v)?;
                }
                entry_result::Result::Error(v) => {
                    struct_ser.serialize_field("error", v)?;
                }
            }
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for EntryResult {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "entry",
            "error",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Entry,
            Error,
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
                            "entry" => Ok(GeneratedField::Entry),
                            "error" => Ok(GeneratedField::Error),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = EntryResult;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.EntryResult")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<EntryResult, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut result__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Entry => {
                            if result__.is_some() {
                                return Err(serde::de::Error::duplicate_field("entry"));
                            }
                            result__ = map_.next_value::<::std::option::Option<_>>()?.map(entry_result::Result::Entry)
;
                        }
                        GeneratedField::Error => {
                            if result__.is_some() {
                                return Err(serde::de::Error::duplicate_field("error"));
                            }
                            result__ = map_.next_value::<::std::option::Option<_>>()?.map(entry_result::Result::Error)
;
                        }
                    }
                }
                Ok(EntryResult {
                    result: result__,
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.EntryResult", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for EvictAgentRequest {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.EvictAgentRequest", len)?;
        if true {
            struct_ser.serialize_field("spiffe_id", &self.spiffe_id)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for EvictAgentRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "spiffe_id",
            "spiffeId",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            SpiffeId,
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
                            "spiffeId" | "spiffe_id" => Ok(GeneratedField::SpiffeId),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = EvictAgentRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.EvictAgentRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<EvictAgentRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut spiffe_id__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::SpiffeId => {
                            if spiffe_id__.is_some() {
                                return Err(serde::de::Error::duplicate_field("spiffeId"));
                            }
                            spiffe_id__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(EvictAgentRequest {
                    spiffe_id: spiffe_id__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.EvictAgentRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for EvictAgentResponse {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let len = 0;
        let struct_ser = serializer.serialize_struct("lanyard.admin.v1.EvictAgentResponse", len)?;
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for EvictAgentResponse {
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
            type Value = EvictAgentResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.EvictAgentResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<EvictAgentResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                while map_.next_key::<GeneratedField>()?.is_some() {
                    let _ = map_.next_value::<serde::de::IgnoredAny>()?;
                }
                Ok(EvictAgentResponse {
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.EvictAgentResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for FederationRelationship {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.FederationRelationship", len)?;
        if true {
            struct_ser.serialize_field("trust_domain", &self.trust_domain)?;
        }
        if true {
            struct_ser.serialize_field("bundle_endpoint_url", &self.bundle_endpoint_url)?;
        }
        if true {
            let v = BundleEndpointProfile::try_from(self.profile)
                .map_err(|_| serde::ser::Error::custom(format!("Invalid variant {}", self.profile)))?;
            struct_ser.serialize_field("profile", &v)?;
        }
        if true {
            struct_ser.serialize_field("endpoint_spiffe_id", &self.endpoint_spiffe_id)?;
        }
        if true {
            struct_ser.serialize_field("declared_in_config", &self.declared_in_config)?;
        }
        if let Some(v) = self.status.as_ref() {
            struct_ser.serialize_field("status", v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for FederationRelationship {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "trust_domain",
            "trustDomain",
            "bundle_endpoint_url",
            "bundleEndpointUrl",
            "profile",
            "endpoint_spiffe_id",
            "endpointSpiffeId",
            "declared_in_config",
            "declaredInConfig",
            "status",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            TrustDomain,
            BundleEndpointUrl,
            Profile,
            EndpointSpiffeId,
            DeclaredInConfig,
            Status,
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
                            "bundleEndpointUrl" | "bundle_endpoint_url" => Ok(GeneratedField::BundleEndpointUrl),
                            "profile" => Ok(GeneratedField::Profile),
                            "endpointSpiffeId" | "endpoint_spiffe_id" => Ok(GeneratedField::EndpointSpiffeId),
                            "declaredInConfig" | "declared_in_config" => Ok(GeneratedField::DeclaredInConfig),
                            "status" => Ok(GeneratedField::Status),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = FederationRelationship;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.FederationRelationship")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<FederationRelationship, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut trust_domain__ = None;
                let mut bundle_endpoint_url__ = None;
                let mut profile__ = None;
                let mut endpoint_spiffe_id__ = None;
                let mut declared_in_config__ = None;
                let mut status__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::TrustDomain => {
                            if trust_domain__.is_some() {
                                return Err(serde::de::Error::duplicate_field("trustDomain"));
                            }
                            trust_domain__ = Some(map_.next_value()?);
                        }
                        GeneratedField::BundleEndpointUrl => {
                            if bundle_endpoint_url__.is_some() {
                                return Err(serde::de::Error::duplicate_field("bundleEndpointUrl"));
                            }
                            bundle_endpoint_url__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Profile => {
                            if profile__.is_some() {
                                return Err(serde::de::Error::duplicate_field("profile"));
                            }
                            profile__ = Some(map_.next_value::<BundleEndpointProfile>()? as i32);
                        }
                        GeneratedField::EndpointSpiffeId => {
                            if endpoint_spiffe_id__.is_some() {
                                return Err(serde::de::Error::duplicate_field("endpointSpiffeId"));
                            }
                            endpoint_spiffe_id__ = Some(map_.next_value()?);
                        }
                        GeneratedField::DeclaredInConfig => {
                            if declared_in_config__.is_some() {
                                return Err(serde::de::Error::duplicate_field("declaredInConfig"));
                            }
                            declared_in_config__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Status => {
                            if status__.is_some() {
                                return Err(serde::de::Error::duplicate_field("status"));
                            }
                            status__ = map_.next_value()?;
                        }
                    }
                }
                Ok(FederationRelationship {
                    trust_domain: trust_domain__.unwrap_or_default(),
                    bundle_endpoint_url: bundle_endpoint_url__.unwrap_or_default(),
                    profile: profile__.unwrap_or_default(),
                    endpoint_spiffe_id: endpoint_spiffe_id__.unwrap_or_default(),
                    declared_in_config: declared_in_config__.unwrap_or_default(),
                    status: status__,
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.FederationRelationship", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for GenerateJoinTokenRequest {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.GenerateJoinTokenRequest", len)?;
        if true {
            struct_ser.serialize_field("spiffe_id", &self.spiffe_id)?;
        }
        if true {
            struct_ser.serialize_field("ttl_seconds", &self.ttl_seconds)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for GenerateJoinTokenRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "spiffe_id",
            "spiffeId",
            "ttl_seconds",
            "ttlSeconds",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            SpiffeId,
            TtlSeconds,
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
                            "spiffeId" | "spiffe_id" => Ok(GeneratedField::SpiffeId),
                            "ttlSeconds" | "ttl_seconds" => Ok(GeneratedField::TtlSeconds),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = GenerateJoinTokenRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.GenerateJoinTokenRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<GenerateJoinTokenRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut spiffe_id__ = None;
                let mut ttl_seconds__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::SpiffeId => {
                            if spiffe_id__.is_some() {
                                return Err(serde::de::Error::duplicate_field("spiffeId"));
                            }
                            spiffe_id__ = Some(map_.next_value()?);
                        }
                        GeneratedField::TtlSeconds => {
                            if ttl_seconds__.is_some() {
                                return Err(serde::de::Error::duplicate_field("ttlSeconds"));
                            }
                            ttl_seconds__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                    }
                }
                Ok(GenerateJoinTokenRequest {
                    spiffe_id: spiffe_id__.unwrap_or_default(),
                    ttl_seconds: ttl_seconds__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.GenerateJoinTokenRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for GenerateJoinTokenResponse {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.GenerateJoinTokenResponse", len)?;
        if true {
            struct_ser.serialize_field("token", &self.token)?;
        }
        if true {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("expires_at", ToString::to_string(&self.expires_at).as_str())?;
        }
        if true {
            struct_ser.serialize_field("agent_spiffe_id", &self.agent_spiffe_id)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for GenerateJoinTokenResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "token",
            "expires_at",
            "expiresAt",
            "agent_spiffe_id",
            "agentSpiffeId",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Token,
            ExpiresAt,
            AgentSpiffeId,
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
                            "expiresAt" | "expires_at" => Ok(GeneratedField::ExpiresAt),
                            "agentSpiffeId" | "agent_spiffe_id" => Ok(GeneratedField::AgentSpiffeId),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = GenerateJoinTokenResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.GenerateJoinTokenResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<GenerateJoinTokenResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut token__ = None;
                let mut expires_at__ = None;
                let mut agent_spiffe_id__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Token => {
                            if token__.is_some() {
                                return Err(serde::de::Error::duplicate_field("token"));
                            }
                            token__ = Some(map_.next_value()?);
                        }
                        GeneratedField::ExpiresAt => {
                            if expires_at__.is_some() {
                                return Err(serde::de::Error::duplicate_field("expiresAt"));
                            }
                            expires_at__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::AgentSpiffeId => {
                            if agent_spiffe_id__.is_some() {
                                return Err(serde::de::Error::duplicate_field("agentSpiffeId"));
                            }
                            agent_spiffe_id__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(GenerateJoinTokenResponse {
                    token: token__.unwrap_or_default(),
                    expires_at: expires_at__.unwrap_or_default(),
                    agent_spiffe_id: agent_spiffe_id__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.GenerateJoinTokenResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for GetAgentRequest {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.GetAgentRequest", len)?;
        if true {
            struct_ser.serialize_field("spiffe_id", &self.spiffe_id)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for GetAgentRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "spiffe_id",
            "spiffeId",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            SpiffeId,
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
                            "spiffeId" | "spiffe_id" => Ok(GeneratedField::SpiffeId),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = GetAgentRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.GetAgentRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<GetAgentRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut spiffe_id__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::SpiffeId => {
                            if spiffe_id__.is_some() {
                                return Err(serde::de::Error::duplicate_field("spiffeId"));
                            }
                            spiffe_id__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(GetAgentRequest {
                    spiffe_id: spiffe_id__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.GetAgentRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for GetAgentResponse {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.GetAgentResponse", len)?;
        if let Some(v) = self.agent.as_ref() {
            struct_ser.serialize_field("agent", v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for GetAgentResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "agent",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Agent,
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
                            "agent" => Ok(GeneratedField::Agent),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = GetAgentResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.GetAgentResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<GetAgentResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut agent__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Agent => {
                            if agent__.is_some() {
                                return Err(serde::de::Error::duplicate_field("agent"));
                            }
                            agent__ = map_.next_value()?;
                        }
                    }
                }
                Ok(GetAgentResponse {
                    agent: agent__,
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.GetAgentResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for GetBundleRequest {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.GetBundleRequest", len)?;
        if true {
            struct_ser.serialize_field("trust_domain", &self.trust_domain)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for GetBundleRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "trust_domain",
            "trustDomain",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            TrustDomain,
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
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = GetBundleRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.GetBundleRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<GetBundleRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut trust_domain__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::TrustDomain => {
                            if trust_domain__.is_some() {
                                return Err(serde::de::Error::duplicate_field("trustDomain"));
                            }
                            trust_domain__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(GetBundleRequest {
                    trust_domain: trust_domain__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.GetBundleRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for GetBundleResponse {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.GetBundleResponse", len)?;
        if let Some(v) = self.bundle.as_ref() {
            struct_ser.serialize_field("bundle", v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for GetBundleResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "bundle",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Bundle,
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
                            "bundle" => Ok(GeneratedField::Bundle),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = GetBundleResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.GetBundleResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<GetBundleResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut bundle__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Bundle => {
                            if bundle__.is_some() {
                                return Err(serde::de::Error::duplicate_field("bundle"));
                            }
                            bundle__ = map_.next_value()?;
                        }
                    }
                }
                Ok(GetBundleResponse {
                    bundle: bundle__,
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.GetBundleResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for GetEntryRequest {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.GetEntryRequest", len)?;
        if true {
            struct_ser.serialize_field("id", &self.id)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for GetEntryRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "id",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Id,
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
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = GetEntryRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.GetEntryRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<GetEntryRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut id__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Id => {
                            if id__.is_some() {
                                return Err(serde::de::Error::duplicate_field("id"));
                            }
                            id__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(GetEntryRequest {
                    id: id__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.GetEntryRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for GetEntryResponse {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.GetEntryResponse", len)?;
        if let Some(v) = self.entry.as_ref() {
            struct_ser.serialize_field("entry", v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for GetEntryResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "entry",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Entry,
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
                            "entry" => Ok(GeneratedField::Entry),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = GetEntryResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.GetEntryResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<GetEntryResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut entry__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Entry => {
                            if entry__.is_some() {
                                return Err(serde::de::Error::duplicate_field("entry"));
                            }
                            entry__ = map_.next_value()?;
                        }
                    }
                }
                Ok(GetEntryResponse {
                    entry: entry__,
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.GetEntryResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for GetFederationRelationshipRequest {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.GetFederationRelationshipRequest", len)?;
        if true {
            struct_ser.serialize_field("trust_domain", &self.trust_domain)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for GetFederationRelationshipRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "trust_domain",
            "trustDomain",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            TrustDomain,
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
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = GetFederationRelationshipRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.GetFederationRelationshipRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<GetFederationRelationshipRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut trust_domain__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::TrustDomain => {
                            if trust_domain__.is_some() {
                                return Err(serde::de::Error::duplicate_field("trustDomain"));
                            }
                            trust_domain__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(GetFederationRelationshipRequest {
                    trust_domain: trust_domain__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.GetFederationRelationshipRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for GetFederationRelationshipResponse {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.GetFederationRelationshipResponse", len)?;
        if let Some(v) = self.relationship.as_ref() {
            struct_ser.serialize_field("relationship", v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for GetFederationRelationshipResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "relationship",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Relationship,
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
                            "relationship" => Ok(GeneratedField::Relationship),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = GetFederationRelationshipResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.GetFederationRelationshipResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<GetFederationRelationshipResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut relationship__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Relationship => {
                            if relationship__.is_some() {
                                return Err(serde::de::Error::duplicate_field("relationship"));
                            }
                            relationship__ = map_.next_value()?;
                        }
                    }
                }
                Ok(GetFederationRelationshipResponse {
                    relationship: relationship__,
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.GetFederationRelationshipResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for GetJwtAuthoritiesRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let len = 0;
        let struct_ser = serializer.serialize_struct("lanyard.admin.v1.GetJwtAuthoritiesRequest", len)?;
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for GetJwtAuthoritiesRequest {
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
            type Value = GetJwtAuthoritiesRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.GetJwtAuthoritiesRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<GetJwtAuthoritiesRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                while map_.next_key::<GeneratedField>()?.is_some() {
                    let _ = map_.next_value::<serde::de::IgnoredAny>()?;
                }
                Ok(GetJwtAuthoritiesRequest {
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.GetJwtAuthoritiesRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for GetJwtAuthoritiesResponse {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.GetJwtAuthoritiesResponse", len)?;
        if true {
            struct_ser.serialize_field("authorities", &self.authorities)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for GetJwtAuthoritiesResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "authorities",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Authorities,
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
                            "authorities" => Ok(GeneratedField::Authorities),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = GetJwtAuthoritiesResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.GetJwtAuthoritiesResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<GetJwtAuthoritiesResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut authorities__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Authorities => {
                            if authorities__.is_some() {
                                return Err(serde::de::Error::duplicate_field("authorities"));
                            }
                            authorities__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(GetJwtAuthoritiesResponse {
                    authorities: authorities__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.GetJwtAuthoritiesResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for GetX509AuthoritiesRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let len = 0;
        let struct_ser = serializer.serialize_struct("lanyard.admin.v1.GetX509AuthoritiesRequest", len)?;
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for GetX509AuthoritiesRequest {
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
            type Value = GetX509AuthoritiesRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.GetX509AuthoritiesRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<GetX509AuthoritiesRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                while map_.next_key::<GeneratedField>()?.is_some() {
                    let _ = map_.next_value::<serde::de::IgnoredAny>()?;
                }
                Ok(GetX509AuthoritiesRequest {
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.GetX509AuthoritiesRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for GetX509AuthoritiesResponse {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.GetX509AuthoritiesResponse", len)?;
        if true {
            struct_ser.serialize_field("authorities", &self.authorities)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for GetX509AuthoritiesResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "authorities",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Authorities,
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
                            "authorities" => Ok(GeneratedField::Authorities),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = GetX509AuthoritiesResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.GetX509AuthoritiesResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<GetX509AuthoritiesResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut authorities__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Authorities => {
                            if authorities__.is_some() {
                                return Err(serde::de::Error::duplicate_field("authorities"));
                            }
                            authorities__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(GetX509AuthoritiesResponse {
                    authorities: authorities__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.GetX509AuthoritiesResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for JwtAuthorityInfo {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.JwtAuthorityInfo", len)?;
        if true {
            struct_ser.serialize_field("authority_id", &self.authority_id)?;
        }
        if true {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("public_key", pbjson::private::base64::encode(&self.public_key).as_str())?;
        }
        if true {
            let v = AuthorityState::try_from(self.state)
                .map_err(|_| serde::ser::Error::custom(format!("Invalid variant {}", self.state)))?;
            struct_ser.serialize_field("state", &v)?;
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
impl<'de> serde::Deserialize<'de> for JwtAuthorityInfo {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "authority_id",
            "authorityId",
            "public_key",
            "publicKey",
            "state",
            "expires_at",
            "expiresAt",
            "tainted",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            AuthorityId,
            PublicKey,
            State,
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
                            "authorityId" | "authority_id" => Ok(GeneratedField::AuthorityId),
                            "publicKey" | "public_key" => Ok(GeneratedField::PublicKey),
                            "state" => Ok(GeneratedField::State),
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
            type Value = JwtAuthorityInfo;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.JwtAuthorityInfo")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<JwtAuthorityInfo, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut authority_id__ = None;
                let mut public_key__ = None;
                let mut state__ = None;
                let mut expires_at__ = None;
                let mut tainted__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::AuthorityId => {
                            if authority_id__.is_some() {
                                return Err(serde::de::Error::duplicate_field("authorityId"));
                            }
                            authority_id__ = Some(map_.next_value()?);
                        }
                        GeneratedField::PublicKey => {
                            if public_key__.is_some() {
                                return Err(serde::de::Error::duplicate_field("publicKey"));
                            }
                            public_key__ = 
                                Some(map_.next_value::<::pbjson::private::BytesDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::State => {
                            if state__.is_some() {
                                return Err(serde::de::Error::duplicate_field("state"));
                            }
                            state__ = Some(map_.next_value::<AuthorityState>()? as i32);
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
                Ok(JwtAuthorityInfo {
                    authority_id: authority_id__.unwrap_or_default(),
                    public_key: public_key__.unwrap_or_default(),
                    state: state__.unwrap_or_default(),
                    expires_at: expires_at__.unwrap_or_default(),
                    tainted: tainted__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.JwtAuthorityInfo", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ListAgentsRequest {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.ListAgentsRequest", len)?;
        if let Some(v) = self.filter.as_ref() {
            struct_ser.serialize_field("filter", v)?;
        }
        if true {
            struct_ser.serialize_field("page_size", &self.page_size)?;
        }
        if true {
            struct_ser.serialize_field("page_token", &self.page_token)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ListAgentsRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "filter",
            "page_size",
            "pageSize",
            "page_token",
            "pageToken",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Filter,
            PageSize,
            PageToken,
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
                            "filter" => Ok(GeneratedField::Filter),
                            "pageSize" | "page_size" => Ok(GeneratedField::PageSize),
                            "pageToken" | "page_token" => Ok(GeneratedField::PageToken),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = ListAgentsRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.ListAgentsRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ListAgentsRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut filter__ = None;
                let mut page_size__ = None;
                let mut page_token__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Filter => {
                            if filter__.is_some() {
                                return Err(serde::de::Error::duplicate_field("filter"));
                            }
                            filter__ = map_.next_value()?;
                        }
                        GeneratedField::PageSize => {
                            if page_size__.is_some() {
                                return Err(serde::de::Error::duplicate_field("pageSize"));
                            }
                            page_size__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::PageToken => {
                            if page_token__.is_some() {
                                return Err(serde::de::Error::duplicate_field("pageToken"));
                            }
                            page_token__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(ListAgentsRequest {
                    filter: filter__,
                    page_size: page_size__.unwrap_or_default(),
                    page_token: page_token__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.ListAgentsRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ListAgentsResponse {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.ListAgentsResponse", len)?;
        if true {
            struct_ser.serialize_field("agents", &self.agents)?;
        }
        if true {
            struct_ser.serialize_field("next_page_token", &self.next_page_token)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ListAgentsResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "agents",
            "next_page_token",
            "nextPageToken",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Agents,
            NextPageToken,
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
                            "agents" => Ok(GeneratedField::Agents),
                            "nextPageToken" | "next_page_token" => Ok(GeneratedField::NextPageToken),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = ListAgentsResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.ListAgentsResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ListAgentsResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut agents__ = None;
                let mut next_page_token__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Agents => {
                            if agents__.is_some() {
                                return Err(serde::de::Error::duplicate_field("agents"));
                            }
                            agents__ = Some(map_.next_value()?);
                        }
                        GeneratedField::NextPageToken => {
                            if next_page_token__.is_some() {
                                return Err(serde::de::Error::duplicate_field("nextPageToken"));
                            }
                            next_page_token__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(ListAgentsResponse {
                    agents: agents__.unwrap_or_default(),
                    next_page_token: next_page_token__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.ListAgentsResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ListEntriesRequest {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.ListEntriesRequest", len)?;
        if let Some(v) = self.filter.as_ref() {
            struct_ser.serialize_field("filter", v)?;
        }
        if true {
            struct_ser.serialize_field("page_size", &self.page_size)?;
        }
        if true {
            struct_ser.serialize_field("page_token", &self.page_token)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ListEntriesRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "filter",
            "page_size",
            "pageSize",
            "page_token",
            "pageToken",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Filter,
            PageSize,
            PageToken,
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
                            "filter" => Ok(GeneratedField::Filter),
                            "pageSize" | "page_size" => Ok(GeneratedField::PageSize),
                            "pageToken" | "page_token" => Ok(GeneratedField::PageToken),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = ListEntriesRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.ListEntriesRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ListEntriesRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut filter__ = None;
                let mut page_size__ = None;
                let mut page_token__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Filter => {
                            if filter__.is_some() {
                                return Err(serde::de::Error::duplicate_field("filter"));
                            }
                            filter__ = map_.next_value()?;
                        }
                        GeneratedField::PageSize => {
                            if page_size__.is_some() {
                                return Err(serde::de::Error::duplicate_field("pageSize"));
                            }
                            page_size__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::PageToken => {
                            if page_token__.is_some() {
                                return Err(serde::de::Error::duplicate_field("pageToken"));
                            }
                            page_token__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(ListEntriesRequest {
                    filter: filter__,
                    page_size: page_size__.unwrap_or_default(),
                    page_token: page_token__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.ListEntriesRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ListEntriesResponse {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.ListEntriesResponse", len)?;
        if true {
            struct_ser.serialize_field("entries", &self.entries)?;
        }
        if true {
            struct_ser.serialize_field("next_page_token", &self.next_page_token)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ListEntriesResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "entries",
            "next_page_token",
            "nextPageToken",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Entries,
            NextPageToken,
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
                            "entries" => Ok(GeneratedField::Entries),
                            "nextPageToken" | "next_page_token" => Ok(GeneratedField::NextPageToken),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = ListEntriesResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.ListEntriesResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ListEntriesResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut entries__ = None;
                let mut next_page_token__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Entries => {
                            if entries__.is_some() {
                                return Err(serde::de::Error::duplicate_field("entries"));
                            }
                            entries__ = Some(map_.next_value()?);
                        }
                        GeneratedField::NextPageToken => {
                            if next_page_token__.is_some() {
                                return Err(serde::de::Error::duplicate_field("nextPageToken"));
                            }
                            next_page_token__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(ListEntriesResponse {
                    entries: entries__.unwrap_or_default(),
                    next_page_token: next_page_token__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.ListEntriesResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ListFederatedBundlesRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let len = 0;
        let struct_ser = serializer.serialize_struct("lanyard.admin.v1.ListFederatedBundlesRequest", len)?;
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ListFederatedBundlesRequest {
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
            type Value = ListFederatedBundlesRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.ListFederatedBundlesRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ListFederatedBundlesRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                while map_.next_key::<GeneratedField>()?.is_some() {
                    let _ = map_.next_value::<serde::de::IgnoredAny>()?;
                }
                Ok(ListFederatedBundlesRequest {
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.ListFederatedBundlesRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ListFederatedBundlesResponse {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.ListFederatedBundlesResponse", len)?;
        if true {
            struct_ser.serialize_field("bundles", &self.bundles)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ListFederatedBundlesResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "bundles",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Bundles,
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
                            "bundles" => Ok(GeneratedField::Bundles),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = ListFederatedBundlesResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.ListFederatedBundlesResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ListFederatedBundlesResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut bundles__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Bundles => {
                            if bundles__.is_some() {
                                return Err(serde::de::Error::duplicate_field("bundles"));
                            }
                            bundles__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(ListFederatedBundlesResponse {
                    bundles: bundles__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.ListFederatedBundlesResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ListFederationRelationshipsRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let len = 0;
        let struct_ser = serializer.serialize_struct("lanyard.admin.v1.ListFederationRelationshipsRequest", len)?;
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ListFederationRelationshipsRequest {
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
            type Value = ListFederationRelationshipsRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.ListFederationRelationshipsRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ListFederationRelationshipsRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                while map_.next_key::<GeneratedField>()?.is_some() {
                    let _ = map_.next_value::<serde::de::IgnoredAny>()?;
                }
                Ok(ListFederationRelationshipsRequest {
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.ListFederationRelationshipsRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ListFederationRelationshipsResponse {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.ListFederationRelationshipsResponse", len)?;
        if true {
            struct_ser.serialize_field("relationships", &self.relationships)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ListFederationRelationshipsResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "relationships",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Relationships,
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
                            "relationships" => Ok(GeneratedField::Relationships),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = ListFederationRelationshipsResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.ListFederationRelationshipsResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ListFederationRelationshipsResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut relationships__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Relationships => {
                            if relationships__.is_some() {
                                return Err(serde::de::Error::duplicate_field("relationships"));
                            }
                            relationships__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(ListFederationRelationshipsResponse {
                    relationships: relationships__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.ListFederationRelationshipsResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for MintJwtSvidRequest {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.MintJwtSvidRequest", len)?;
        if true {
            struct_ser.serialize_field("spiffe_id", &self.spiffe_id)?;
        }
        if true {
            struct_ser.serialize_field("audience", &self.audience)?;
        }
        if true {
            struct_ser.serialize_field("ttl_seconds", &self.ttl_seconds)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for MintJwtSvidRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "spiffe_id",
            "spiffeId",
            "audience",
            "ttl_seconds",
            "ttlSeconds",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            SpiffeId,
            Audience,
            TtlSeconds,
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
                            "spiffeId" | "spiffe_id" => Ok(GeneratedField::SpiffeId),
                            "audience" => Ok(GeneratedField::Audience),
                            "ttlSeconds" | "ttl_seconds" => Ok(GeneratedField::TtlSeconds),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = MintJwtSvidRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.MintJwtSvidRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<MintJwtSvidRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut spiffe_id__ = None;
                let mut audience__ = None;
                let mut ttl_seconds__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::SpiffeId => {
                            if spiffe_id__.is_some() {
                                return Err(serde::de::Error::duplicate_field("spiffeId"));
                            }
                            spiffe_id__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Audience => {
                            if audience__.is_some() {
                                return Err(serde::de::Error::duplicate_field("audience"));
                            }
                            audience__ = Some(map_.next_value()?);
                        }
                        GeneratedField::TtlSeconds => {
                            if ttl_seconds__.is_some() {
                                return Err(serde::de::Error::duplicate_field("ttlSeconds"));
                            }
                            ttl_seconds__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                    }
                }
                Ok(MintJwtSvidRequest {
                    spiffe_id: spiffe_id__.unwrap_or_default(),
                    audience: audience__.unwrap_or_default(),
                    ttl_seconds: ttl_seconds__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.MintJwtSvidRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for MintJwtSvidResponse {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.MintJwtSvidResponse", len)?;
        if let Some(v) = self.svid.as_ref() {
            struct_ser.serialize_field("svid", v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for MintJwtSvidResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "svid",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Svid,
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
                            "svid" => Ok(GeneratedField::Svid),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = MintJwtSvidResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.MintJwtSvidResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<MintJwtSvidResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut svid__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Svid => {
                            if svid__.is_some() {
                                return Err(serde::de::Error::duplicate_field("svid"));
                            }
                            svid__ = map_.next_value()?;
                        }
                    }
                }
                Ok(MintJwtSvidResponse {
                    svid: svid__,
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.MintJwtSvidResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for PrepareJwtAuthorityRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let len = 0;
        let struct_ser = serializer.serialize_struct("lanyard.admin.v1.PrepareJwtAuthorityRequest", len)?;
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for PrepareJwtAuthorityRequest {
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
            type Value = PrepareJwtAuthorityRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.PrepareJwtAuthorityRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<PrepareJwtAuthorityRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                while map_.next_key::<GeneratedField>()?.is_some() {
                    let _ = map_.next_value::<serde::de::IgnoredAny>()?;
                }
                Ok(PrepareJwtAuthorityRequest {
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.PrepareJwtAuthorityRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for PrepareJwtAuthorityResponse {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.PrepareJwtAuthorityResponse", len)?;
        if let Some(v) = self.prepared.as_ref() {
            struct_ser.serialize_field("prepared", v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for PrepareJwtAuthorityResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "prepared",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Prepared,
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
                            "prepared" => Ok(GeneratedField::Prepared),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = PrepareJwtAuthorityResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.PrepareJwtAuthorityResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<PrepareJwtAuthorityResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut prepared__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Prepared => {
                            if prepared__.is_some() {
                                return Err(serde::de::Error::duplicate_field("prepared"));
                            }
                            prepared__ = map_.next_value()?;
                        }
                    }
                }
                Ok(PrepareJwtAuthorityResponse {
                    prepared: prepared__,
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.PrepareJwtAuthorityResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for PrepareX509AuthorityRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let len = 0;
        let struct_ser = serializer.serialize_struct("lanyard.admin.v1.PrepareX509AuthorityRequest", len)?;
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for PrepareX509AuthorityRequest {
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
            type Value = PrepareX509AuthorityRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.PrepareX509AuthorityRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<PrepareX509AuthorityRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                while map_.next_key::<GeneratedField>()?.is_some() {
                    let _ = map_.next_value::<serde::de::IgnoredAny>()?;
                }
                Ok(PrepareX509AuthorityRequest {
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.PrepareX509AuthorityRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for PrepareX509AuthorityResponse {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.PrepareX509AuthorityResponse", len)?;
        if let Some(v) = self.prepared.as_ref() {
            struct_ser.serialize_field("prepared", v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for PrepareX509AuthorityResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "prepared",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Prepared,
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
                            "prepared" => Ok(GeneratedField::Prepared),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = PrepareX509AuthorityResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.PrepareX509AuthorityResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<PrepareX509AuthorityResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut prepared__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Prepared => {
                            if prepared__.is_some() {
                                return Err(serde::de::Error::duplicate_field("prepared"));
                            }
                            prepared__ = map_.next_value()?;
                        }
                    }
                }
                Ok(PrepareX509AuthorityResponse {
                    prepared: prepared__,
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.PrepareX509AuthorityResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for RefreshBundleRequest {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.RefreshBundleRequest", len)?;
        if true {
            struct_ser.serialize_field("trust_domain", &self.trust_domain)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for RefreshBundleRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "trust_domain",
            "trustDomain",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            TrustDomain,
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
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = RefreshBundleRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.RefreshBundleRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<RefreshBundleRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut trust_domain__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::TrustDomain => {
                            if trust_domain__.is_some() {
                                return Err(serde::de::Error::duplicate_field("trustDomain"));
                            }
                            trust_domain__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(RefreshBundleRequest {
                    trust_domain: trust_domain__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.RefreshBundleRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for RefreshBundleResponse {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.RefreshBundleResponse", len)?;
        if let Some(v) = self.bundle.as_ref() {
            struct_ser.serialize_field("bundle", v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for RefreshBundleResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "bundle",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Bundle,
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
                            "bundle" => Ok(GeneratedField::Bundle),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = RefreshBundleResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.RefreshBundleResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<RefreshBundleResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut bundle__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Bundle => {
                            if bundle__.is_some() {
                                return Err(serde::de::Error::duplicate_field("bundle"));
                            }
                            bundle__ = map_.next_value()?;
                        }
                    }
                }
                Ok(RefreshBundleResponse {
                    bundle: bundle__,
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.RefreshBundleResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for RefreshStatus {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.RefreshStatus", len)?;
        if true {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("last_attempt_at", ToString::to_string(&self.last_attempt_at).as_str())?;
        }
        if true {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("last_success_at", ToString::to_string(&self.last_success_at).as_str())?;
        }
        if true {
            struct_ser.serialize_field("last_error", &self.last_error)?;
        }
        if true {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("next_attempt_at", ToString::to_string(&self.next_attempt_at).as_str())?;
        }
        if true {
            struct_ser.serialize_field("consecutive_failures", &self.consecutive_failures)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for RefreshStatus {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "last_attempt_at",
            "lastAttemptAt",
            "last_success_at",
            "lastSuccessAt",
            "last_error",
            "lastError",
            "next_attempt_at",
            "nextAttemptAt",
            "consecutive_failures",
            "consecutiveFailures",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            LastAttemptAt,
            LastSuccessAt,
            LastError,
            NextAttemptAt,
            ConsecutiveFailures,
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
                            "lastAttemptAt" | "last_attempt_at" => Ok(GeneratedField::LastAttemptAt),
                            "lastSuccessAt" | "last_success_at" => Ok(GeneratedField::LastSuccessAt),
                            "lastError" | "last_error" => Ok(GeneratedField::LastError),
                            "nextAttemptAt" | "next_attempt_at" => Ok(GeneratedField::NextAttemptAt),
                            "consecutiveFailures" | "consecutive_failures" => Ok(GeneratedField::ConsecutiveFailures),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = RefreshStatus;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.RefreshStatus")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<RefreshStatus, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut last_attempt_at__ = None;
                let mut last_success_at__ = None;
                let mut last_error__ = None;
                let mut next_attempt_at__ = None;
                let mut consecutive_failures__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::LastAttemptAt => {
                            if last_attempt_at__.is_some() {
                                return Err(serde::de::Error::duplicate_field("lastAttemptAt"));
                            }
                            last_attempt_at__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::LastSuccessAt => {
                            if last_success_at__.is_some() {
                                return Err(serde::de::Error::duplicate_field("lastSuccessAt"));
                            }
                            last_success_at__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::LastError => {
                            if last_error__.is_some() {
                                return Err(serde::de::Error::duplicate_field("lastError"));
                            }
                            last_error__ = Some(map_.next_value()?);
                        }
                        GeneratedField::NextAttemptAt => {
                            if next_attempt_at__.is_some() {
                                return Err(serde::de::Error::duplicate_field("nextAttemptAt"));
                            }
                            next_attempt_at__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::ConsecutiveFailures => {
                            if consecutive_failures__.is_some() {
                                return Err(serde::de::Error::duplicate_field("consecutiveFailures"));
                            }
                            consecutive_failures__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                    }
                }
                Ok(RefreshStatus {
                    last_attempt_at: last_attempt_at__.unwrap_or_default(),
                    last_success_at: last_success_at__.unwrap_or_default(),
                    last_error: last_error__.unwrap_or_default(),
                    next_attempt_at: next_attempt_at__.unwrap_or_default(),
                    consecutive_failures: consecutive_failures__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.RefreshStatus", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for RevokeJwtAuthorityRequest {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.RevokeJwtAuthorityRequest", len)?;
        if true {
            struct_ser.serialize_field("authority_id", &self.authority_id)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for RevokeJwtAuthorityRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "authority_id",
            "authorityId",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            AuthorityId,
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
                            "authorityId" | "authority_id" => Ok(GeneratedField::AuthorityId),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = RevokeJwtAuthorityRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.RevokeJwtAuthorityRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<RevokeJwtAuthorityRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut authority_id__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::AuthorityId => {
                            if authority_id__.is_some() {
                                return Err(serde::de::Error::duplicate_field("authorityId"));
                            }
                            authority_id__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(RevokeJwtAuthorityRequest {
                    authority_id: authority_id__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.RevokeJwtAuthorityRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for RevokeJwtAuthorityResponse {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.RevokeJwtAuthorityResponse", len)?;
        if let Some(v) = self.revoked.as_ref() {
            struct_ser.serialize_field("revoked", v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for RevokeJwtAuthorityResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "revoked",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Revoked,
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
                            "revoked" => Ok(GeneratedField::Revoked),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = RevokeJwtAuthorityResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.RevokeJwtAuthorityResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<RevokeJwtAuthorityResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut revoked__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Revoked => {
                            if revoked__.is_some() {
                                return Err(serde::de::Error::duplicate_field("revoked"));
                            }
                            revoked__ = map_.next_value()?;
                        }
                    }
                }
                Ok(RevokeJwtAuthorityResponse {
                    revoked: revoked__,
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.RevokeJwtAuthorityResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for RevokeX509AuthorityRequest {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.RevokeX509AuthorityRequest", len)?;
        if true {
            struct_ser.serialize_field("authority_id", &self.authority_id)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for RevokeX509AuthorityRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "authority_id",
            "authorityId",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            AuthorityId,
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
                            "authorityId" | "authority_id" => Ok(GeneratedField::AuthorityId),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = RevokeX509AuthorityRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.RevokeX509AuthorityRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<RevokeX509AuthorityRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut authority_id__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::AuthorityId => {
                            if authority_id__.is_some() {
                                return Err(serde::de::Error::duplicate_field("authorityId"));
                            }
                            authority_id__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(RevokeX509AuthorityRequest {
                    authority_id: authority_id__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.RevokeX509AuthorityRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for RevokeX509AuthorityResponse {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.RevokeX509AuthorityResponse", len)?;
        if let Some(v) = self.revoked.as_ref() {
            struct_ser.serialize_field("revoked", v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for RevokeX509AuthorityResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "revoked",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Revoked,
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
                            "revoked" => Ok(GeneratedField::Revoked),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = RevokeX509AuthorityResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.RevokeX509AuthorityResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<RevokeX509AuthorityResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut revoked__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Revoked => {
                            if revoked__.is_some() {
                                return Err(serde::de::Error::duplicate_field("revoked"));
                            }
                            revoked__ = map_.next_value()?;
                        }
                    }
                }
                Ok(RevokeX509AuthorityResponse {
                    revoked: revoked__,
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.RevokeX509AuthorityResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for SelectorFilter {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.SelectorFilter", len)?;
        if true {
            struct_ser.serialize_field("selectors", &self.selectors)?;
        }
        if true {
            let v = SelectorMatch::try_from(self.r#match)
                .map_err(|_| serde::ser::Error::custom(format!("Invalid variant {}", self.r#match)))?;
            struct_ser.serialize_field("match", &v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for SelectorFilter {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "selectors",
            "match",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Selectors,
            Match,
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
                            "selectors" => Ok(GeneratedField::Selectors),
                            "match" => Ok(GeneratedField::Match),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = SelectorFilter;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.SelectorFilter")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<SelectorFilter, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut selectors__ = None;
                let mut r#match__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Selectors => {
                            if selectors__.is_some() {
                                return Err(serde::de::Error::duplicate_field("selectors"));
                            }
                            selectors__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Match => {
                            if r#match__.is_some() {
                                return Err(serde::de::Error::duplicate_field("match"));
                            }
                            r#match__ = Some(map_.next_value::<SelectorMatch>()? as i32);
                        }
                    }
                }
                Ok(SelectorFilter {
                    selectors: selectors__.unwrap_or_default(),
                    r#match: r#match__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.SelectorFilter", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for SelectorMatch {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        let variant = match self {
            Self::Unspecified => "SELECTOR_MATCH_UNSPECIFIED",
            Self::Exact => "SELECTOR_MATCH_EXACT",
            Self::Subset => "SELECTOR_MATCH_SUBSET",
            Self::Superset => "SELECTOR_MATCH_SUPERSET",
            Self::Any => "SELECTOR_MATCH_ANY",
        };
        serializer.serialize_str(variant)
    }
}
impl<'de> serde::Deserialize<'de> for SelectorMatch {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "SELECTOR_MATCH_UNSPECIFIED",
            "SELECTOR_MATCH_EXACT",
            "SELECTOR_MATCH_SUBSET",
            "SELECTOR_MATCH_SUPERSET",
            "SELECTOR_MATCH_ANY",
        ];

        struct GeneratedVisitor;

        impl serde::de::Visitor<'_> for GeneratedVisitor {
            type Value = SelectorMatch;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(formatter, "expected one of: {:?}", &FIELDS)
            }

            fn visit_i64<E>(self, v: i64) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                i32::try_from(v)
                    .ok()
                    .and_then(|x| x.try_into().ok())
                    .ok_or_else(|| {
                        serde::de::Error::invalid_value(serde::de::Unexpected::Signed(v), &self)
                    })
            }

            fn visit_u64<E>(self, v: u64) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                i32::try_from(v)
                    .ok()
                    .and_then(|x| x.try_into().ok())
                    .ok_or_else(|| {
                        serde::de::Error::invalid_value(serde::de::Unexpected::Unsigned(v), &self)
                    })
            }

            fn visit_str<E>(self, value: &str) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                match value {
                    "SELECTOR_MATCH_UNSPECIFIED" => Ok(SelectorMatch::Unspecified),
                    "SELECTOR_MATCH_EXACT" => Ok(SelectorMatch::Exact),
                    "SELECTOR_MATCH_SUBSET" => Ok(SelectorMatch::Subset),
                    "SELECTOR_MATCH_SUPERSET" => Ok(SelectorMatch::Superset),
                    "SELECTOR_MATCH_ANY" => Ok(SelectorMatch::Any),
                    _ => Err(serde::de::Error::unknown_variant(value, FIELDS)),
                }
            }
        }
        deserializer.deserialize_any(GeneratedVisitor)
    }
}
impl serde::Serialize for SetFederatedBundleRequest {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.SetFederatedBundleRequest", len)?;
        if let Some(v) = self.bundle.as_ref() {
            struct_ser.serialize_field("bundle", v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for SetFederatedBundleRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "bundle",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Bundle,
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
                            "bundle" => Ok(GeneratedField::Bundle),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = SetFederatedBundleRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.SetFederatedBundleRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<SetFederatedBundleRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut bundle__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Bundle => {
                            if bundle__.is_some() {
                                return Err(serde::de::Error::duplicate_field("bundle"));
                            }
                            bundle__ = map_.next_value()?;
                        }
                    }
                }
                Ok(SetFederatedBundleRequest {
                    bundle: bundle__,
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.SetFederatedBundleRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for SetFederatedBundleResponse {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.SetFederatedBundleResponse", len)?;
        if let Some(v) = self.bundle.as_ref() {
            struct_ser.serialize_field("bundle", v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for SetFederatedBundleResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "bundle",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Bundle,
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
                            "bundle" => Ok(GeneratedField::Bundle),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = SetFederatedBundleResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.SetFederatedBundleResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<SetFederatedBundleResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut bundle__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Bundle => {
                            if bundle__.is_some() {
                                return Err(serde::de::Error::duplicate_field("bundle"));
                            }
                            bundle__ = map_.next_value()?;
                        }
                    }
                }
                Ok(SetFederatedBundleResponse {
                    bundle: bundle__,
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.SetFederatedBundleResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for TaintJwtAuthorityRequest {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.TaintJwtAuthorityRequest", len)?;
        if true {
            struct_ser.serialize_field("authority_id", &self.authority_id)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for TaintJwtAuthorityRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "authority_id",
            "authorityId",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            AuthorityId,
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
                            "authorityId" | "authority_id" => Ok(GeneratedField::AuthorityId),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = TaintJwtAuthorityRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.TaintJwtAuthorityRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<TaintJwtAuthorityRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut authority_id__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::AuthorityId => {
                            if authority_id__.is_some() {
                                return Err(serde::de::Error::duplicate_field("authorityId"));
                            }
                            authority_id__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(TaintJwtAuthorityRequest {
                    authority_id: authority_id__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.TaintJwtAuthorityRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for TaintJwtAuthorityResponse {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.TaintJwtAuthorityResponse", len)?;
        if let Some(v) = self.tainted.as_ref() {
            struct_ser.serialize_field("tainted", v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for TaintJwtAuthorityResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "tainted",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
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
            type Value = TaintJwtAuthorityResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.TaintJwtAuthorityResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<TaintJwtAuthorityResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut tainted__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Tainted => {
                            if tainted__.is_some() {
                                return Err(serde::de::Error::duplicate_field("tainted"));
                            }
                            tainted__ = map_.next_value()?;
                        }
                    }
                }
                Ok(TaintJwtAuthorityResponse {
                    tainted: tainted__,
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.TaintJwtAuthorityResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for TaintX509AuthorityRequest {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.TaintX509AuthorityRequest", len)?;
        if true {
            struct_ser.serialize_field("authority_id", &self.authority_id)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for TaintX509AuthorityRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "authority_id",
            "authorityId",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            AuthorityId,
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
                            "authorityId" | "authority_id" => Ok(GeneratedField::AuthorityId),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = TaintX509AuthorityRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.TaintX509AuthorityRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<TaintX509AuthorityRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut authority_id__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::AuthorityId => {
                            if authority_id__.is_some() {
                                return Err(serde::de::Error::duplicate_field("authorityId"));
                            }
                            authority_id__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(TaintX509AuthorityRequest {
                    authority_id: authority_id__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.TaintX509AuthorityRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for TaintX509AuthorityResponse {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.TaintX509AuthorityResponse", len)?;
        if let Some(v) = self.tainted.as_ref() {
            struct_ser.serialize_field("tainted", v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for TaintX509AuthorityResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "tainted",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
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
            type Value = TaintX509AuthorityResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.TaintX509AuthorityResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<TaintX509AuthorityResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut tainted__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Tainted => {
                            if tainted__.is_some() {
                                return Err(serde::de::Error::duplicate_field("tainted"));
                            }
                            tainted__ = map_.next_value()?;
                        }
                    }
                }
                Ok(TaintX509AuthorityResponse {
                    tainted: tainted__,
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.TaintX509AuthorityResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for UpdateEntryRequest {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.UpdateEntryRequest", len)?;
        if let Some(v) = self.entry.as_ref() {
            struct_ser.serialize_field("entry", v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for UpdateEntryRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "entry",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Entry,
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
                            "entry" => Ok(GeneratedField::Entry),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = UpdateEntryRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.UpdateEntryRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<UpdateEntryRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut entry__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Entry => {
                            if entry__.is_some() {
                                return Err(serde::de::Error::duplicate_field("entry"));
                            }
                            entry__ = map_.next_value()?;
                        }
                    }
                }
                Ok(UpdateEntryRequest {
                    entry: entry__,
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.UpdateEntryRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for UpdateEntryResponse {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.UpdateEntryResponse", len)?;
        if let Some(v) = self.entry.as_ref() {
            struct_ser.serialize_field("entry", v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for UpdateEntryResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "entry",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Entry,
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
                            "entry" => Ok(GeneratedField::Entry),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = UpdateEntryResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.UpdateEntryResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<UpdateEntryResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut entry__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Entry => {
                            if entry__.is_some() {
                                return Err(serde::de::Error::duplicate_field("entry"));
                            }
                            entry__ = map_.next_value()?;
                        }
                    }
                }
                Ok(UpdateEntryResponse {
                    entry: entry__,
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.UpdateEntryResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for UpdateFederationRelationshipRequest {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.UpdateFederationRelationshipRequest", len)?;
        if let Some(v) = self.relationship.as_ref() {
            struct_ser.serialize_field("relationship", v)?;
        }
        if let Some(v) = self.bootstrap_bundle.as_ref() {
            struct_ser.serialize_field("bootstrap_bundle", v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for UpdateFederationRelationshipRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "relationship",
            "bootstrap_bundle",
            "bootstrapBundle",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Relationship,
            BootstrapBundle,
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
                            "relationship" => Ok(GeneratedField::Relationship),
                            "bootstrapBundle" | "bootstrap_bundle" => Ok(GeneratedField::BootstrapBundle),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = UpdateFederationRelationshipRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.UpdateFederationRelationshipRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<UpdateFederationRelationshipRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut relationship__ = None;
                let mut bootstrap_bundle__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Relationship => {
                            if relationship__.is_some() {
                                return Err(serde::de::Error::duplicate_field("relationship"));
                            }
                            relationship__ = map_.next_value()?;
                        }
                        GeneratedField::BootstrapBundle => {
                            if bootstrap_bundle__.is_some() {
                                return Err(serde::de::Error::duplicate_field("bootstrapBundle"));
                            }
                            bootstrap_bundle__ = map_.next_value()?;
                        }
                    }
                }
                Ok(UpdateFederationRelationshipRequest {
                    relationship: relationship__,
                    bootstrap_bundle: bootstrap_bundle__,
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.UpdateFederationRelationshipRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for UpdateFederationRelationshipResponse {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.UpdateFederationRelationshipResponse", len)?;
        if let Some(v) = self.relationship.as_ref() {
            struct_ser.serialize_field("relationship", v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for UpdateFederationRelationshipResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "relationship",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Relationship,
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
                            "relationship" => Ok(GeneratedField::Relationship),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = UpdateFederationRelationshipResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.UpdateFederationRelationshipResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<UpdateFederationRelationshipResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut relationship__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Relationship => {
                            if relationship__.is_some() {
                                return Err(serde::de::Error::duplicate_field("relationship"));
                            }
                            relationship__ = map_.next_value()?;
                        }
                    }
                }
                Ok(UpdateFederationRelationshipResponse {
                    relationship: relationship__,
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.UpdateFederationRelationshipResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for X509AuthorityInfo {
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
        let mut struct_ser = serializer.serialize_struct("lanyard.admin.v1.X509AuthorityInfo", len)?;
        if true {
            struct_ser.serialize_field("authority_id", &self.authority_id)?;
        }
        if true {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("certificate", pbjson::private::base64::encode(&self.certificate).as_str())?;
        }
        if true {
            let v = AuthorityState::try_from(self.state)
                .map_err(|_| serde::ser::Error::custom(format!("Invalid variant {}", self.state)))?;
            struct_ser.serialize_field("state", &v)?;
        }
        if true {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("expires_at", ToString::to_string(&self.expires_at).as_str())?;
        }
        if true {
            struct_ser.serialize_field("tainted", &self.tainted)?;
        }
        if true {
            struct_ser.serialize_field("local", &self.local)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for X509AuthorityInfo {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "authority_id",
            "authorityId",
            "certificate",
            "state",
            "expires_at",
            "expiresAt",
            "tainted",
            "local",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            AuthorityId,
            Certificate,
            State,
            ExpiresAt,
            Tainted,
            Local,
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
                            "authorityId" | "authority_id" => Ok(GeneratedField::AuthorityId),
                            "certificate" => Ok(GeneratedField::Certificate),
                            "state" => Ok(GeneratedField::State),
                            "expiresAt" | "expires_at" => Ok(GeneratedField::ExpiresAt),
                            "tainted" => Ok(GeneratedField::Tainted),
                            "local" => Ok(GeneratedField::Local),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = X509AuthorityInfo;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct lanyard.admin.v1.X509AuthorityInfo")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<X509AuthorityInfo, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut authority_id__ = None;
                let mut certificate__ = None;
                let mut state__ = None;
                let mut expires_at__ = None;
                let mut tainted__ = None;
                let mut local__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::AuthorityId => {
                            if authority_id__.is_some() {
                                return Err(serde::de::Error::duplicate_field("authorityId"));
                            }
                            authority_id__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Certificate => {
                            if certificate__.is_some() {
                                return Err(serde::de::Error::duplicate_field("certificate"));
                            }
                            certificate__ = 
                                Some(map_.next_value::<::pbjson::private::BytesDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::State => {
                            if state__.is_some() {
                                return Err(serde::de::Error::duplicate_field("state"));
                            }
                            state__ = Some(map_.next_value::<AuthorityState>()? as i32);
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
                        GeneratedField::Local => {
                            if local__.is_some() {
                                return Err(serde::de::Error::duplicate_field("local"));
                            }
                            local__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(X509AuthorityInfo {
                    authority_id: authority_id__.unwrap_or_default(),
                    certificate: certificate__.unwrap_or_default(),
                    state: state__.unwrap_or_default(),
                    expires_at: expires_at__.unwrap_or_default(),
                    tainted: tainted__.unwrap_or_default(),
                    local: local__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("lanyard.admin.v1.X509AuthorityInfo", FIELDS, GeneratedVisitor)
    }
}
