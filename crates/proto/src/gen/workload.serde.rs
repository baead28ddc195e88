impl serde::Serialize for JwtBundlesRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let len = 0;
        let struct_ser = serializer.serialize_struct("workload.JWTBundlesRequest", len)?;
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for JwtBundlesRequest {
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
            type Value = JwtBundlesRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct workload.JWTBundlesRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<JwtBundlesRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                while map_.next_key::<GeneratedField>()?.is_some() {
                    let _ = map_.next_value::<serde::de::IgnoredAny>()?;
                }
                Ok(JwtBundlesRequest {
                })
            }
        }
        deserializer.deserialize_struct("workload.JWTBundlesRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for JwtBundlesResponse {
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
        let mut struct_ser = serializer.serialize_struct("workload.JWTBundlesResponse", len)?;
        if true {
            let v: std::collections::HashMap<_, _> = self.bundles.iter()
                .map(|(k, v)| (k, pbjson::private::base64::encode(v))).collect();
            struct_ser.serialize_field("bundles", &v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for JwtBundlesResponse {
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
            type Value = JwtBundlesResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct workload.JWTBundlesResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<JwtBundlesResponse, V::Error>
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
                            bundles__ = Some(
                                map_.next_value::<std::collections::HashMap<_, ::pbjson::private::BytesDeserialize<_>>>()?
                                    .into_iter().map(|(k,v)| (k, v.0)).collect()
                            );
                        }
                    }
                }
                Ok(JwtBundlesResponse {
                    bundles: bundles__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("workload.JWTBundlesResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for Jwtsvid {
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
        let mut struct_ser = serializer.serialize_struct("workload.JWTSVID", len)?;
        if true {
            struct_ser.serialize_field("spiffe_id", &self.spiffe_id)?;
        }
        if true {
            struct_ser.serialize_field("svid", &self.svid)?;
        }
        if true {
            struct_ser.serialize_field("hint", &self.hint)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for Jwtsvid {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "spiffe_id",
            "spiffeId",
            "svid",
            "hint",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            SpiffeId,
            Svid,
            Hint,
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
                            "svid" => Ok(GeneratedField::Svid),
                            "hint" => Ok(GeneratedField::Hint),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = Jwtsvid;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct workload.JWTSVID")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<Jwtsvid, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut spiffe_id__ = None;
                let mut svid__ = None;
                let mut hint__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::SpiffeId => {
                            if spiffe_id__.is_some() {
                                return Err(serde::de::Error::duplicate_field("spiffeId"));
                            }
                            spiffe_id__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Svid => {
                            if svid__.is_some() {
                                return Err(serde::de::Error::duplicate_field("svid"));
                            }
                            svid__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Hint => {
                            if hint__.is_some() {
                                return Err(serde::de::Error::duplicate_field("hint"));
                            }
                            hint__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(Jwtsvid {
                    spiffe_id: spiffe_id__.unwrap_or_default(),
                    svid: svid__.unwrap_or_default(),
                    hint: hint__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("workload.JWTSVID", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for JwtsvidRequest {
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
        let mut struct_ser = serializer.serialize_struct("workload.JWTSVIDRequest", len)?;
        if true {
            struct_ser.serialize_field("audience", &self.audience)?;
        }
        if true {
            struct_ser.serialize_field("spiffe_id", &self.spiffe_id)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for JwtsvidRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "audience",
            "spiffe_id",
            "spiffeId",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Audience,
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
                            "audience" => Ok(GeneratedField::Audience),
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
            type Value = JwtsvidRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct workload.JWTSVIDRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<JwtsvidRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut audience__ = None;
                let mut spiffe_id__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Audience => {
                            if audience__.is_some() {
                                return Err(serde::de::Error::duplicate_field("audience"));
                            }
                            audience__ = Some(map_.next_value()?);
                        }
                        GeneratedField::SpiffeId => {
                            if spiffe_id__.is_some() {
                                return Err(serde::de::Error::duplicate_field("spiffeId"));
                            }
                            spiffe_id__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(JwtsvidRequest {
                    audience: audience__.unwrap_or_default(),
                    spiffe_id: spiffe_id__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("workload.JWTSVIDRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for JwtsvidResponse {
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
        let mut struct_ser = serializer.serialize_struct("workload.JWTSVIDResponse", len)?;
        if true {
            struct_ser.serialize_field("svids", &self.svids)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for JwtsvidResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "svids",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Svids,
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
                            "svids" => Ok(GeneratedField::Svids),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = JwtsvidResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct workload.JWTSVIDResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<JwtsvidResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut svids__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Svids => {
                            if svids__.is_some() {
                                return Err(serde::de::Error::duplicate_field("svids"));
                            }
                            svids__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(JwtsvidResponse {
                    svids: svids__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("workload.JWTSVIDResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ValidateJwtsvidRequest {
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
        let mut struct_ser = serializer.serialize_struct("workload.ValidateJWTSVIDRequest", len)?;
        if true {
            struct_ser.serialize_field("audience", &self.audience)?;
        }
        if true {
            struct_ser.serialize_field("svid", &self.svid)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ValidateJwtsvidRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "audience",
            "svid",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Audience,
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
                            "audience" => Ok(GeneratedField::Audience),
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
            type Value = ValidateJwtsvidRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct workload.ValidateJWTSVIDRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ValidateJwtsvidRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut audience__ = None;
                let mut svid__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Audience => {
                            if audience__.is_some() {
                                return Err(serde::de::Error::duplicate_field("audience"));
                            }
                            audience__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Svid => {
                            if svid__.is_some() {
                                return Err(serde::de::Error::duplicate_field("svid"));
                            }
                            svid__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(ValidateJwtsvidRequest {
                    audience: audience__.unwrap_or_default(),
                    svid: svid__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("workload.ValidateJWTSVIDRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ValidateJwtsvidResponse {
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
        let mut struct_ser = serializer.serialize_struct("workload.ValidateJWTSVIDResponse", len)?;
        if true {
            struct_ser.serialize_field("spiffe_id", &self.spiffe_id)?;
        }
        if let Some(v) = self.claims.as_ref() {
            struct_ser.serialize_field("claims", v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ValidateJwtsvidResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "spiffe_id",
            "spiffeId",
            "claims",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            SpiffeId,
            Claims,
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
                            "claims" => Ok(GeneratedField::Claims),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = ValidateJwtsvidResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct workload.ValidateJWTSVIDResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ValidateJwtsvidResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut spiffe_id__ = None;
                let mut claims__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::SpiffeId => {
                            if spiffe_id__.is_some() {
                                return Err(serde::de::Error::duplicate_field("spiffeId"));
                            }
                            spiffe_id__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Claims => {
                            if claims__.is_some() {
                                return Err(serde::de::Error::duplicate_field("claims"));
                            }
                            claims__ = map_.next_value()?;
                        }
                    }
                }
                Ok(ValidateJwtsvidResponse {
                    spiffe_id: spiffe_id__.unwrap_or_default(),
                    claims: claims__,
                })
            }
        }
        deserializer.deserialize_struct("workload.ValidateJWTSVIDResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for X509BundlesRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let len = 0;
        let struct_ser = serializer.serialize_struct("workload.X509BundlesRequest", len)?;
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for X509BundlesRequest {
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
            type Value = X509BundlesRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct workload.X509BundlesRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<X509BundlesRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                while map_.next_key::<GeneratedField>()?.is_some() {
                    let _ = map_.next_value::<serde::de::IgnoredAny>()?;
                }
                Ok(X509BundlesRequest {
                })
            }
        }
        deserializer.deserialize_struct("workload.X509BundlesRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for X509BundlesResponse {
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
        let mut struct_ser = serializer.serialize_struct("workload.X509BundlesResponse", len)?;
        if true {
            struct_ser.serialize_field("crl", &self.crl.iter().map(pbjson::private::base64::encode).collect::<Vec<_>>())?;
        }
        if true {
            let v: std::collections::HashMap<_, _> = self.bundles.iter()
                .map(|(k, v)| (k, pbjson::private::base64::encode(v))).collect();
            struct_ser.serialize_field("bundles", &v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for X509BundlesResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "crl",
            "bundles",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Crl,
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
                            "crl" => Ok(GeneratedField::Crl),
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
            type Value = X509BundlesResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct workload.X509BundlesResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<X509BundlesResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut crl__ = None;
                let mut bundles__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Crl => {
                            if crl__.is_some() {
                                return Err(serde::de::Error::duplicate_field("crl"));
                            }
                            crl__ = 
                                Some(map_.next_value::<Vec<::pbjson::private::BytesDeserialize<_>>>()?
                                    .into_iter().map(|x| x.0).collect())
                            ;
                        }
                        GeneratedField::Bundles => {
                            if bundles__.is_some() {
                                return Err(serde::de::Error::duplicate_field("bundles"));
                            }
                            bundles__ = Some(
                                map_.next_value::<std::collections::HashMap<_, ::pbjson::private::BytesDeserialize<_>>>()?
                                    .into_iter().map(|(k,v)| (k, v.0)).collect()
                            );
                        }
                    }
                }
                Ok(X509BundlesResponse {
                    crl: crl__.unwrap_or_default(),
                    bundles: bundles__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("workload.X509BundlesResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for X509svid {
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
        let mut struct_ser = serializer.serialize_struct("workload.X509SVID", len)?;
        if true {
            struct_ser.serialize_field("spiffe_id", &self.spiffe_id)?;
        }
        if true {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("x509_svid", pbjson::private::base64::encode(&self.x509_svid).as_str())?;
        }
        if true {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("x509_svid_key", pbjson::private::base64::encode(&self.x509_svid_key).as_str())?;
        }
        if true {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("bundle", pbjson::private::base64::encode(&self.bundle).as_str())?;
        }
        if true {
            struct_ser.serialize_field("hint", &self.hint)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for X509svid {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "spiffe_id",
            "spiffeId",
            "x509_svid",
            "x509Svid",
            "x509_svid_key",
            "x509SvidKey",
            "bundle",
            "hint",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            SpiffeId,
            X509Svid,
            X509SvidKey,
            Bundle,
            Hint,
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
                            "x509Svid" | "x509_svid" => Ok(GeneratedField::X509Svid),
                            "x509SvidKey" | "x509_svid_key" => Ok(GeneratedField::X509SvidKey),
                            "bundle" => Ok(GeneratedField::Bundle),
                            "hint" => Ok(GeneratedField::Hint),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = X509svid;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct workload.X509SVID")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<X509svid, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut spiffe_id__ = None;
                let mut x509_svid__ = None;
                let mut x509_svid_key__ = None;
                let mut bundle__ = None;
                let mut hint__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::SpiffeId => {
                            if spiffe_id__.is_some() {
                                return Err(serde::de::Error::duplicate_field("spiffeId"));
                            }
                            spiffe_id__ = Some(map_.next_value()?);
                        }
                        GeneratedField::X509Svid => {
                            if x509_svid__.is_some() {
                                return Err(serde::de::Error::duplicate_field("x509Svid"));
                            }
                            x509_svid__ = 
                                Some(map_.next_value::<::pbjson::private::BytesDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::X509SvidKey => {
                            if x509_svid_key__.is_some() {
                                return Err(serde::de::Error::duplicate_field("x509SvidKey"));
                            }
                            x509_svid_key__ = 
                                Some(map_.next_value::<::pbjson::private::BytesDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Bundle => {
                            if bundle__.is_some() {
                                return Err(serde::de::Error::duplicate_field("bundle"));
                            }
                            bundle__ = 
                                Some(map_.next_value::<::pbjson::private::BytesDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Hint => {
                            if hint__.is_some() {
                                return Err(serde::de::Error::duplicate_field("hint"));
                            }
                            hint__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(X509svid {
                    spiffe_id: spiffe_id__.unwrap_or_default(),
                    x509_svid: x509_svid__.unwrap_or_default(),
                    x509_svid_key: x509_svid_key__.unwrap_or_default(),
                    bundle: bundle__.unwrap_or_default(),
                    hint: hint__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("workload.X509SVID", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for X509svidRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let len = 0;
        let struct_ser = serializer.serialize_struct("workload.X509SVIDRequest", len)?;
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for X509svidRequest {
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
            type Value = X509svidRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct workload.X509SVIDRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<X509svidRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                while map_.next_key::<GeneratedField>()?.is_some() {
                    let _ = map_.next_value::<serde::de::IgnoredAny>()?;
                }
                Ok(X509svidRequest {
                })
            }
        }
        deserializer.deserialize_struct("workload.X509SVIDRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for X509svidResponse {
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
        let mut struct_ser = serializer.serialize_struct("workload.X509SVIDResponse", len)?;
        if true {
            struct_ser.serialize_field("svids", &self.svids)?;
        }
        if true {
            struct_ser.serialize_field("crl", &self.crl.iter().map(pbjson::private::base64::encode).collect::<Vec<_>>())?;
        }
        if true {
            let v: std::collections::HashMap<_, _> = self.federated_bundles.iter()
                .map(|(k, v)| (k, pbjson::private::base64::encode(v))).collect();
            struct_ser.serialize_field("federated_bundles", &v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for X509svidResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "svids",
            "crl",
            "federated_bundles",
            "federatedBundles",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Svids,
            Crl,
            FederatedBundles,
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
                            "svids" => Ok(GeneratedField::Svids),
                            "crl" => Ok(GeneratedField::Crl),
                            "federatedBundles" | "federated_bundles" => Ok(GeneratedField::FederatedBundles),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = X509svidResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct workload.X509SVIDResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<X509svidResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut svids__ = None;
                let mut crl__ = None;
                let mut federated_bundles__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Svids => {
                            if svids__.is_some() {
                                return Err(serde::de::Error::duplicate_field("svids"));
                            }
                            svids__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Crl => {
                            if crl__.is_some() {
                                return Err(serde::de::Error::duplicate_field("crl"));
                            }
                            crl__ = 
                                Some(map_.next_value::<Vec<::pbjson::private::BytesDeserialize<_>>>()?
                                    .into_iter().map(|x| x.0).collect())
                            ;
                        }
                        GeneratedField::FederatedBundles => {
                            if federated_bundles__.is_some() {
                                return Err(serde::de::Error::duplicate_field("federatedBundles"));
                            }
                            federated_bundles__ = Some(
                                map_.next_value::<std::collections::HashMap<_, ::pbjson::private::BytesDeserialize<_>>>()?
                                    .into_iter().map(|(k,v)| (k, v.0)).collect()
                            );
                        }
                    }
                }
                Ok(X509svidResponse {
                    svids: svids__.unwrap_or_default(),
                    crl: crl__.unwrap_or_default(),
                    federated_bundles: federated_bundles__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("workload.X509SVIDResponse", FIELDS, GeneratedVisitor)
    }
}
