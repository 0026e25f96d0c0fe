//! The admin's email about a confirmed order (docs/api.md, Notifications), with amounts
//! as `KES 12,500.00` (the customer's texts are [`super::sms`]'s).
//!
//! Invariant: everything that came from a person (names, addresses, notes, product
//! names) is HTML-escaped in the HTML part; the plain-text part and the SMS carry it as is.

use std::fmt::Write;

use crate::customer::Customer;
use crate::money::Money;
use crate::order::Order;

/// An amount as the messages write it: `KES 12,500.00`.
pub fn kes(amount: Money) -> String {
    format!("KES {}", amount.grouped())
}

/// An email's content; the sender and recipient are the email adapter's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailContent {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The admin's email about a newly confirmed order. `customer` is `None` when the
/// customer record is gone (the order is still worth reporting).
pub fn admin_email(order: &Order, customer: Option<&Customer>) -> EmailContent {
    let facts = Facts::of(order, customer);
    EmailContent {
        subject: format!(
            "New Order: #{} - {}",
            order.order_number,
            kes(order.totals.total_amount)
        ),
        text: facts.text(order),
        html: facts.html(order),
    }
}

/// What both parts of the admin's email tell besides the lines.
struct Facts<'a> {
    name: &'a str,
    email: &'a str,
    phone: &'a str,
    notes: Option<&'a str>,
    totals: [(&'static str, Money); 3],
}

impl<'a> Facts<'a> {
    fn of(order: &'a Order, customer: Option<&'a Customer>) -> Self {
        Self {
            name: customer.map_or("(unknown customer)", |c| c.name.as_str()),
            email: customer.map_or("-", |c| c.email.as_str()),
            phone: customer
                .and_then(|c| c.phone_number.as_ref())
                .map_or("(none)", |p| p.as_str()),
            notes: order.notes.as_ref().map(|n| n.as_str()),
            totals: [
                ("Subtotal", order.totals.subtotal),
                ("VAT", order.totals.tax_amount),
                ("Total", order.totals.total_amount),
            ],
        }
    }

    /// The plain-text part.
    fn text(&self, order: &Order) -> String {
        let mut text = format!(
            "New order {} confirmed.\n\nCustomer: {}\nEmail: {}\nPhone: {}\nDelivery address: {}\n",
            order.order_number,
            self.name,
            self.email,
            self.phone,
            order.delivery_address.as_str(),
        );
        if let Some(notes) = self.notes {
            let _ = writeln!(text, "Notes: {notes}");
        }
        text.push_str("\nItems:\n");
        for line in &order.lines {
            let _ = writeln!(
                text,
                "- {} x {} @ {} = {}",
                line.product_name.as_str(),
                line.quantity.get(),
                kes(line.unit_price),
                kes(line.line_total)
            );
        }
        text.push('\n');
        for (label, amount) in self.totals {
            let _ = writeln!(text, "{label}: {}", kes(amount));
        }
        text
    }

    /// The HTML part: every value escaped.
    fn html(&self, order: &Order) -> String {
        let mut html = format!(
            "<!DOCTYPE html>\n<html><body>\n<h1>New order {}</h1>\n<table>\n\
             <tr><th align=\"left\">Customer</th><td>{}</td></tr>\n\
             <tr><th align=\"left\">Email</th><td>{}</td></tr>\n\
             <tr><th align=\"left\">Phone</th><td>{}</td></tr>\n\
             <tr><th align=\"left\">Delivery address</th><td>{}</td></tr>\n",
            escape(order.order_number.as_str()),
            escape(self.name),
            escape(self.email),
            escape(self.phone),
            escape(order.delivery_address.as_str()),
        );
        if let Some(notes) = self.notes {
            let _ = writeln!(
                html,
                "<tr><th align=\"left\">Notes</th><td>{}</td></tr>",
                escape(notes)
            );
        }
        html.push_str(
            "</table>\n<table border=\"1\" cellpadding=\"4\" cellspacing=\"0\">\n\
             <tr><th>Product</th><th>Quantity</th><th>Unit price</th><th>Line total</th></tr>\n",
        );
        for line in &order.lines {
            let _ = writeln!(
                html,
                "<tr><td>{}</td><td align=\"right\">{}</td><td align=\"right\">{}</td><td align=\"right\">{}</td></tr>",
                escape(line.product_name.as_str()),
                line.quantity.get(),
                kes(line.unit_price),
                kes(line.line_total)
            );
        }
        for (label, amount) in self.totals {
            let _ = writeln!(
                html,
                "<tr><th colspan=\"3\" align=\"right\">{label}</th><td align=\"right\">{}</td></tr>",
                kes(amount)
            );
        }
        html.push_str("</table>\n</body></html>\n");
        html
    }
}

/// `s` with the five HTML-significant characters escaped.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::customer::{CustomerId, CustomerName, PhoneNumber};
    use crate::order::OrderStatus;
    use crate::testing::OrderBuilder;
    use crate::timestamp::Timestamp;

    /// A confirmed order of two lines, with text the HTML part must escape.
    fn order() -> OrderBuilder {
        OrderBuilder::new()
            .number("ORD-20261126-7KQ2MZ")
            .status(OrderStatus::Confirmed)
            .line("Phone <Pro>", Some("PH-1"), "12500", 2)
            .line("Case", None, "0.05", 1)
            .delivery_address("Moi Ave & \"Kenyatta\" St")
    }

    fn customer(phone: Option<&str>) -> Customer {
        let now = Timestamp::now();
        Customer {
            id: CustomerId::generate(),
            email: "wanjiku@example.com".into(),
            name: CustomerName::parse("Wanjiku <Kamau>").expect("name"),
            phone_number: phone.map(|p| PhoneNumber::parse(p).expect("phone")),
            is_admin: false,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn the_email_lists_customer_lines_and_totals() {
        let email = admin_email(
            &order().notes("ring twice").build(),
            Some(&customer(Some("0712345678"))),
        );
        assert_eq!(
            email.subject,
            "New Order: #ORD-20261126-7KQ2MZ - KES 29,000.06"
        );
        for expected in [
            "Customer: Wanjiku <Kamau>",
            "Email: wanjiku@example.com",
            "Phone: +254712345678",
            "Delivery address: Moi Ave & \"Kenyatta\" St",
            "Notes: ring twice",
            "- Phone <Pro> x 2 @ KES 12,500.00 = KES 25,000.00",
            "- Case x 1 @ KES 0.05 = KES 0.05",
            "Subtotal: KES 25,000.05",
            "VAT: KES 4,000.01",
            "Total: KES 29,000.06",
        ] {
            assert!(
                email.text.contains(expected),
                "{expected} in\n{}",
                email.text
            );
        }
    }

    #[test]
    fn the_html_part_escapes_everything_people_typed() {
        let email = admin_email(
            &order().notes("<b>fragile</b>").build(),
            Some(&customer(None)),
        );
        for expected in [
            "Wanjiku &lt;Kamau&gt;",
            "Moi Ave &amp; &quot;Kenyatta&quot; St",
            "&lt;b&gt;fragile&lt;/b&gt;",
            "Phone &lt;Pro&gt;",
            "<td align=\"right\">KES 25,000.00</td>",
            "(none)",
        ] {
            assert!(
                email.html.contains(expected),
                "{expected} in\n{}",
                email.html
            );
        }
        for raw in ["<Kamau>", "<b>fragile", "<Pro>", "\"Kenyatta\""] {
            assert!(!email.html.contains(raw), "{raw} unescaped");
        }
    }

    #[test]
    fn a_missing_customer_still_gives_a_complete_email() {
        let email = admin_email(&order().build(), None);
        assert!(email.text.contains("Customer: (unknown customer)"));
        assert!(!email.text.contains("Notes:"));
    }
}
