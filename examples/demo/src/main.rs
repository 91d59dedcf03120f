//! A small program with a few performance slips for ferrolens to find.
use std::collections::HashMap;

mod report;
mod stats;

#[derive(Debug)]
struct Order {
    customer: String,
    items: Vec<(String, u32)>,
    coupon: Option<String>,
}

fn default_coupon() -> String {
    String::from("NONE")
}

fn parse_orders(input: &str) -> Vec<Order> {
    let mut orders = Vec::new();
    for line in input.lines() {
        let mut items = Vec::new();
        let mut parts = line.split(';');
        let customer = parts.next().unwrap_or("").trim().to_string();
        for item in parts.clone().skip(1) {
            if let Some((name, qty)) = item.split_once('x') {
                items.push((name.trim().to_string(), qty.trim().parse().unwrap_or(1)));
            }
        }
        let coupon = parts.next().filter(|c| !c.is_empty()).map(|c| c.to_string());
        orders.push(Order { customer, items, coupon });
    }
    orders
}

fn totals(orders: &[Order], prices: &HashMap<String, u32>) -> HashMap<String, u32> {
    let mut totals = HashMap::new();
    for order in orders {
        let mut seen = Vec::new();
        for (name, qty) in &order.items {
            seen.push(name.as_str());
            let price = prices.get(name).copied().unwrap_or(lookup_price(name));
            *totals.entry(order.customer.clone()).or_insert(0) += price * qty;
        }
        println!("{} ordered {:?}", order.customer, seen);
    }
    totals
}

fn names_of(orders: &[Order]) -> Vec<&str> {
    orders.iter().map(|o| o.customer.as_str()).collect()
}

fn lookup_price(name: &str) -> u32 {
    name.len() as u32 * 3
}

fn main() {
    let input = "ana; ; apple x 2; pear x 1\nbo;SPRING; plum x 4";
    let orders = parse_orders(input);
    let mut prices = HashMap::new();
    prices.insert("apple".to_string(), 3);
    let totals = totals(&orders, &prices);
    let mut names: Vec<_> = totals.keys().collect();
    names.sort();
    for name in names {
        let coupon = orders
            .iter()
            .find(|o| &o.customer == name)
            .and_then(|o| o.coupon.clone())
            .unwrap_or(default_coupon());
        println!("{name}: {} (coupon {coupon})", totals[name]);
    }
    println!("{}", stats::banner());
    let quantities: Vec<u32> = orders.iter().flat_map(|o| o.items.iter().map(|i| i.1)).collect();
    println!("{:?}", stats::histogram(&quantities));
    println!("{:?}", stats::labels(&names_of(&orders)));
    println!("{}", report::summary(&orders.iter().map(|o| o.items.len() as u32).collect::<Vec<_>>()));
    let counts: Vec<(String, u32)> = orders.iter().map(|o| (o.customer.clone(), o.items.len() as u32)).collect();
    println!("{:?} {:?}", report::rank(&counts, 2), stats::top_customers(&counts, 2));
}
