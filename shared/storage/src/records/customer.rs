//! The customer's items: the customer (`CUSTOMER#<id>`, filed in staff's lists: GSI1 by
//! lower-cased email, GSI2 in the list of every customer), the identity that maps the
//! provider's subject to it (`IDENTITY#<provider>#<subject>`), and a pending sign-in
//! (`SIGNIN_STATE#<state>`, deleted by TTL on `expires_at`).
//!
//! Invariant: every write of a customer item that sets its email also sets its
//! [`Listed`] keys from that email ([`CustomerRecord::encode_new`], [`Listed::of`] in the
//! sign-in update); a customer stored before the lists existed decodes without them.

use domain::customer::{Customer, CustomerName, PendingSignIn, PhoneNumber};
use domain::{CustomerId, Timestamp};
use serde::{Deserialize, Serialize};

use aws_sdk_dynamodb::types::AttributeValue;
use domain::customer::EmailKey;

use super::{Gsi1, Gsi2, ItemHead, decode, encode};
use crate::failure::Failure;
use crate::item::{Item, s};
use crate::keys::{self, customer_entity};

const CUSTOMER: &str = "customer";
const IDENTITY: &str = "customer identity";
const SIGN_IN: &str = "sign-in state";

/// A customer as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CustomerRecord {
    #[serde(flatten)]
    head: ItemHead,
    /// Absent on customers stored before staff's lists existed.
    #[serde(flatten)]
    listed: Option<Listed>,
    #[serde(flatten)]
    fields: CustomerFields,
}

/// A customer's own attributes. A customer item decodes as this one struct: its keys are
/// skipped unread (decoding the record, its flattened parts would buffer every attribute
/// first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct CustomerFields {
    id: String,
    email: String,
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    phone_number: Option<String>,
    #[serde(default)]
    is_admin: bool,
    /// The identity provider's subject the customer first signed in as.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    provider_subject: Option<String>,
    created_at: String,
    updated_at: String,
}

/// The index keys that file a customer in staff's lists: GSI1 under its lower-cased email,
/// GSI2 in the list of every customer, both sorted by its id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Listed {
    #[serde(flatten)]
    gsi1: Gsi1,
    #[serde(flatten)]
    gsi2: Gsi2,
}

impl Listed {
    /// The keys of customer `id` whose email is `email`.
    pub fn of(id: CustomerId, email: &str) -> Self {
        Self {
            gsi1: Gsi1::new(
                keys::customers_with_email(&EmailKey::of(email)),
                keys::customer_list_order(id),
            ),
            gsi2: Gsi2::new(keys::CUSTOMER_LIST, keys::customer_list_order(id)),
        }
    }

    /// Its attributes, to set in an update.
    pub fn into_attributes(self) -> [(&'static str, AttributeValue); 4] {
        [
            (keys::GSI1PK, s(self.gsi1.pk)),
            (keys::GSI1SK, s(self.gsi1.sk)),
            (keys::GSI2PK, s(self.gsi2.pk)),
            (keys::GSI2SK, s(self.gsi2.sk)),
        ]
    }
}

impl CustomerRecord {
    /// The item of a customer who first signs in as `subject`.
    pub fn encode_new(customer: &Customer, subject: &str) -> Result<Item, Failure> {
        let key = keys::customer(customer.id);
        encode(
            CUSTOMER,
            &CustomerRecord {
                head: ItemHead::new(key, customer_entity::CUSTOMER),
                listed: Some(Listed::of(customer.id, &customer.email)),
                fields: CustomerFields {
                    id: customer.id.to_string(),
                    email: customer.email.clone(),
                    name: customer.name.as_str().to_owned(),
                    phone_number: customer
                        .phone_number
                        .as_ref()
                        .map(|p| p.as_str().to_owned()),
                    is_admin: customer.is_admin,
                    provider_subject: Some(subject.to_owned()),
                    created_at: customer.created_at.to_string(),
                    updated_at: customer.updated_at.to_string(),
                },
            },
        )
    }

    /// The customer a stored item holds.
    pub fn decode(item: Item) -> Result<Customer, Failure> {
        let r: CustomerFields = decode(CUSTOMER, item)?;
        let invalid = |what: &'static str| Failure::record(CUSTOMER, format!("invalid {what}"));
        Ok(Customer {
            id: r.id.parse().map_err(|_| invalid("id"))?,
            email: r.email,
            name: CustomerName::parse(&r.name).map_err(|_| invalid("name"))?,
            phone_number: r
                .phone_number
                .as_deref()
                .map(PhoneNumber::parse)
                .transpose()
                .map_err(|_| invalid("phone_number"))?,
            is_admin: r.is_admin,
            created_at: Timestamp::parse(&r.created_at).map_err(|_| invalid("created_at"))?,
            updated_at: Timestamp::parse(&r.updated_at).map_err(|_| invalid("updated_at"))?,
        })
    }
}

/// The item that maps a provider's subject to its one customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct IdentityRecord {
    #[serde(flatten)]
    head: ItemHead,
    customer_id: String,
}

impl IdentityRecord {
    /// The item mapping `subject` (at our provider) to `customer`.
    pub fn encode(subject: &str, customer: CustomerId) -> Result<Item, Failure> {
        let key = keys::customer_identity(keys::GOOGLE_PROVIDER, subject);
        encode(
            IDENTITY,
            &IdentityRecord {
                head: ItemHead::new(key, customer_entity::CUSTOMER_IDENTITY),
                customer_id: customer.to_string(),
            },
        )
    }

    /// The customer an identity item points to.
    pub fn decode(item: Item) -> Result<CustomerId, Failure> {
        let r: IdentityRecord = decode(IDENTITY, item)?;
        r.customer_id
            .parse()
            .map_err(|_| Failure::record(IDENTITY, "invalid customer_id"))
    }
}

/// A sign-in waiting for the provider's callback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SignInRecord {
    #[serde(flatten)]
    head: ItemHead,
    nonce: String,
    pkce_verifier: String,
    redirect_uri: String,
    /// Unix seconds; the table's TTL attribute.
    expires_at: i64,
}

impl SignInRecord {
    /// The item of `pending`.
    pub fn encode(pending: &PendingSignIn) -> Result<Item, Failure> {
        let key = keys::sign_in_state(&pending.state);
        encode(
            SIGN_IN,
            &SignInRecord {
                head: ItemHead::new(key, customer_entity::SIGN_IN_STATE),
                nonce: pending.nonce.clone(),
                pkce_verifier: pending.pkce_verifier.clone(),
                redirect_uri: pending.redirect_uri.clone(),
                expires_at: pending.expires_at,
            },
        )
    }

    /// The pending sign-in of `state` a stored item holds.
    pub fn decode(state: &str, item: Item) -> Result<PendingSignIn, Failure> {
        let r: SignInRecord = decode(SIGN_IN, item)?;
        Ok(PendingSignIn {
            state: state.to_owned(),
            nonce: r.nonce,
            pkce_verifier: r.pkce_verifier,
            redirect_uri: r.redirect_uri,
            expires_at: r.expires_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_dynamodb::types::AttributeValue;

    use super::*;
    use crate::records::attr;

    fn s(v: &str) -> AttributeValue {
        AttributeValue::S(v.to_owned())
    }

    fn customer(phone: Option<&str>) -> Customer {
        let now = Timestamp::now();
        Customer {
            id: CustomerId::generate(),
            email: "w@example.com".into(),
            name: CustomerName::parse("Wanjiku").expect("name"),
            phone_number: phone.map(|p| PhoneNumber::parse(p).expect("phone")),
            is_admin: false,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn customers_round_trip_with_the_attribute_names_updates_use() {
        let customer = customer(Some("0712345678"));
        let item = CustomerRecord::encode_new(&customer, "sub-1").expect("encodes");
        let key = keys::customer(customer.id);
        assert_eq!(item.get(keys::PK), Some(&s(&key.pk)));
        assert_eq!(item.get(keys::SK), Some(&s(&key.sk)));
        assert_eq!(item.get(keys::ENTITY_TYPE), Some(&s("Customer")));
        assert_eq!(item.get("provider_subject"), Some(&s("sub-1")));
        assert_eq!(item.get(attr::EMAIL), Some(&s("w@example.com")));
        assert_eq!(item.get(attr::NAME), Some(&s("Wanjiku")));
        assert_eq!(item.get(attr::PHONE_NUMBER), Some(&s("+254712345678")));
        assert_eq!(item.get(attr::IS_ADMIN), Some(&AttributeValue::Bool(false)));
        assert!(item.contains_key(attr::UPDATED_AT));
        assert_eq!(CustomerRecord::decode(item).expect("decodes"), customer);
    }

    #[test]
    fn customers_are_filed_in_staffs_lists_and_decode_without_them() {
        let mut customer = customer(None);
        customer.email = "Wanjiku@Example.COM".into();
        let id = customer.id.to_string();
        let mut item = CustomerRecord::encode_new(&customer, "sub-1").expect("encodes");
        let listed = Listed::of(customer.id, &customer.email).into_attributes();
        for (attr, value) in &listed {
            assert_eq!(item.get(*attr), Some(value), "{attr}");
        }
        assert_eq!(
            item.get(keys::GSI1PK),
            Some(&s("CUSTOMER_EMAIL#wanjiku@example.com"))
        );
        assert_eq!(item.get(keys::GSI1SK), Some(&s(&id)));
        assert_eq!(item.get(keys::GSI2PK), Some(&s("CUSTOMERS")));
        assert_eq!(item.get(keys::GSI2SK), Some(&s(&id)));
        // A customer stored before the lists existed.
        for (attr, _) in &listed {
            item.remove(*attr);
        }
        assert_eq!(CustomerRecord::decode(item).expect("decodes"), customer);
    }

    #[test]
    fn no_made_up_phone_number_and_removed_or_null_reads_as_none() {
        let customer = customer(None);
        let mut item = CustomerRecord::encode_new(&customer, "sub-1").expect("encodes");
        assert!(!item.contains_key(attr::PHONE_NUMBER));
        assert_eq!(
            CustomerRecord::decode(item.clone()).expect("decodes"),
            customer
        );
        item.insert(attr::PHONE_NUMBER.into(), AttributeValue::Null(true));
        assert_eq!(CustomerRecord::decode(item).expect("decodes"), customer);
    }

    #[test]
    fn a_malformed_item_is_an_error_naming_the_record() {
        let mut item = CustomerRecord::encode_new(&customer(None), "s").expect("encodes");
        item.insert(attr::PHONE_NUMBER.into(), s("not a phone"));
        let err = CustomerRecord::decode(item.clone()).expect_err("invalid phone");
        assert!(err.to_string().starts_with("customer item"), "{err}");
        item.remove(attr::EMAIL);
        assert!(CustomerRecord::decode(item).is_err(), "missing email");
    }

    #[test]
    fn identities_and_sign_ins_round_trip() {
        let id = CustomerId::generate();
        let item = IdentityRecord::encode("sub-9", id).expect("encodes");
        assert_eq!(item.get("customer_id"), Some(&s(&id.to_string())));
        assert_eq!(IdentityRecord::decode(item).expect("decodes"), id);

        let pending = PendingSignIn {
            state: "st".into(),
            nonce: "n".into(),
            pkce_verifier: "v".into(),
            redirect_uri: "https://x/cb".into(),
            expires_at: 1_764_000_000,
        };
        let item = SignInRecord::encode(&pending).expect("encodes");
        assert_eq!(
            item.get(attr::EXPIRES_AT),
            Some(&AttributeValue::N("1764000000".into())),
            "a number, as the TTL needs"
        );
        // PendingSignIn holds secrets and has no Debug: compared without printing.
        assert!(SignInRecord::decode("st", item).expect("decodes") == pending);
    }
}
