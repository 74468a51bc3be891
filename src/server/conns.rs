//! The connections a server holds: which one gives way when every slot is taken, and how many
//! requests each client address has in progress (loopback and `[server] proxies` spared).
//!
//! Owns: the registry of open connections, whether each is answering a request (busy: from its
//! complete request head to the end of its answer's body) or idle (just opened, between two
//! requests, or still sending a request head), choosing the connection to close so that a
//! waiting client gets a slot (the one idle the longest, one at a time), and the count of
//! requests in progress per client address with its limit. Must not: accept, read or write
//! connections, or build answers (that is `server`).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use tokio::sync::Notify;

/// How long a connection told to close to make room is waited for before another is told
/// too. An idle connection closes at once; one still sending the end of its last answer to a
/// client that does not read it could take `[server] timeout_secs`, and the client waiting for
/// the slot must not wait that long while other connections are idle.
pub const CLOSING_WAIT_MS: u64 = 1000;

/// How long a connection that has not begun a request is left to send one before it may be
/// closed to make room: a client's request may still be on its way (half a round trip), and a
/// burst of new clients at the limit must not close each other before they speak. A silent one
/// (an attacker's) gives way once it is this old.
pub const FRESH_GRACE_MS: u64 = 1000;

/// Requests one client address may have in progress at once with `max_connections`
/// connections in all: an eighth of them, at least 4 (and never more than all of them).
pub fn per_address_limit(max_connections: usize) -> usize {
    (max_connections / 8).max(4).min(max_connections)
}

/// A client address as it is counted: an IPv4 address alone, an IPv6 address by its /64
/// network (which one subscriber usually holds whole). An IPv4 address mapped into IPv6 (a
/// server listening on `[::]`) is the IPv4 address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Client(IpAddr);

impl Client {
    /// How `ip` is counted.
    pub fn of(ip: IpAddr) -> Client {
        match ip.to_canonical() {
            IpAddr::V6(v6) => {
                let mut octets = v6.octets();
                octets[8..].fill(0);
                Client(IpAddr::from(octets))
            }
            v4 => Client(v4),
        }
    }
}

/// Which addresses the per-address limit spares: reverse proxies, each of which carries many
/// clients' requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exempt {
    /// Loopback (`127.0.0.0/8`, `::1`): a reverse proxy on the same host.
    loopback: bool,
    /// `[server] proxies`: reverse proxies on other hosts.
    networks: Vec<ipnet::IpNet>,
}

impl Exempt {
    /// Loopback and `proxies` (`[server] proxies`).
    pub fn loopback_and(proxies: Vec<ipnet::IpNet>) -> Exempt {
        Exempt {
            loopback: true,
            networks: proxies,
        }
    }

    /// `networks` alone, not even loopback (to test the limit on loopback).
    #[cfg(test)]
    pub fn only(networks: Vec<ipnet::IpNet>) -> Exempt {
        Exempt {
            loopback: false,
            networks,
        }
    }

    /// Whether requests from `peer` are spared (an IPv4 address mapped into IPv6, as a server
    /// listening on `[::]` sees IPv4 clients, is the IPv4 address).
    fn spares(&self, peer: IpAddr) -> bool {
        let ip = peer.to_canonical();
        (self.loopback && ip.is_loopback()) || self.networks.iter().any(|n| n.contains(&ip))
    }
}

/// The open connections of one server.
pub struct Conns {
    started: Instant,
    per_address: usize,
    exempt: Exempt,
    inner: Mutex<Inner>,
    /// Told whenever a connection finishes an answer.
    idle: Notify,
}

#[derive(Default)]
struct Inner {
    next_id: u64,
    open: HashMap<u64, Arc<Conn>>,
    in_progress: HashMap<Client, usize>,
}

/// One open connection.
pub struct Conn {
    id: u64,
    /// `None` when its address is exempt from the per-address limit.
    client: Option<Client>,
    busy: AtomicBool,
    /// Requests begun on it (answered or refused).
    requests: AtomicU64,
    /// When it last became idle, in milliseconds since the server started.
    idle_since: AtomicU64,
    /// Told to close (to make room, or because the server stops), and when (in milliseconds
    /// since the server started).
    closing: AtomicBool,
    closing_since: AtomicU64,
    close: Notify,
}

impl Conn {
    /// Resolves once the connection is told to close (at once if it was told before).
    pub async fn told_to_close(&self) {
        self.close.notified().await;
    }

    /// Whether a request was ever begun on it: if not, nothing was written to it, and it can be
    /// closed without cutting an answer short.
    pub fn had_requests(&self) -> bool {
        self.requests.load(Ordering::SeqCst) > 0
    }

    fn tell_to_close(&self, now_ms: u64) {
        self.closing_since.store(now_ms, Ordering::SeqCst);
        self.closing.store(true, Ordering::SeqCst);
        self.close.notify_one();
    }
}

/// Held while a connection is open: dropping it forgets the connection.
pub struct Registered {
    conns: Arc<Conns>,
    conn: Arc<Conn>,
}

impl Registered {
    /// The connection.
    pub fn conn(&self) -> &Arc<Conn> {
        &self.conn
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.conns.lock().open.remove(&self.conn.id);
    }
}

/// Held while a request is in progress (until its answer's body is dropped).
pub struct Busy {
    conns: Arc<Conns>,
    conn: Arc<Conn>,
}

impl Drop for Busy {
    fn drop(&mut self) {
        {
            let mut inner = self.conns.lock();
            if let Some(client) = self.conn.client
                && let Some(n) = inner.in_progress.get_mut(&client)
            {
                *n -= 1;
                if *n == 0 {
                    inner.in_progress.remove(&client);
                }
            }
            self.conn
                .idle_since
                .store(self.conns.now_ms(), Ordering::SeqCst);
            self.conn.busy.store(false, Ordering::SeqCst);
        }
        self.conns.idle.notify_one();
    }
}

impl Conns {
    /// No connection yet; each client address may have `per_address` requests in progress,
    /// except those `exempt`.
    pub fn new(per_address: usize, exempt: Exempt) -> Arc<Conns> {
        Arc::new(Conns {
            started: Instant::now(),
            per_address,
            exempt,
            inner: Mutex::default(),
            idle: Notify::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Register a connection just accepted from `peer`; it is idle.
    pub fn open(self: &Arc<Self>, peer: IpAddr) -> Registered {
        let exempt = self.exempt.spares(peer);
        let mut inner = self.lock();
        inner.next_id += 1;
        let conn = Arc::new(Conn {
            id: inner.next_id,
            client: (!exempt).then(|| Client::of(peer)),
            busy: AtomicBool::new(false),
            requests: AtomicU64::new(0),
            idle_since: AtomicU64::new(self.now_ms()),
            closing: AtomicBool::new(false),
            closing_since: AtomicU64::new(0),
            close: Notify::new(),
        });
        inner.open.insert(conn.id, conn.clone());
        Registered {
            conns: self.clone(),
            conn,
        }
    }

    /// A request begins on `conn`: it is busy until the returned guard is dropped. `None` when
    /// its address already has as many requests in progress as it may (the request is then
    /// refused, and the connection stays idle).
    pub fn begin(self: &Arc<Self>, conn: &Arc<Conn>) -> Option<Busy> {
        conn.requests.fetch_add(1, Ordering::SeqCst);
        let mut inner = self.lock();
        if let Some(client) = conn.client {
            let n = inner.in_progress.entry(client).or_insert(0);
            if *n >= self.per_address {
                return None;
            }
            *n += 1;
        }
        conn.busy.store(true, Ordering::SeqCst);
        Some(Busy {
            conns: self.clone(),
            conn: conn.clone(),
        })
    }

    /// Every slot is taken and a client waits: tell the connection idle the longest to close.
    /// Nothing is done while a connection told so less than [`CLOSING_WAIT_MS`] ago is still
    /// open and idle (it is closing, and its slot about to be free), or when every connection
    /// is busy or opened less than [`FRESH_GRACE_MS`] ago without a request yet (the caller
    /// tries again). Returns whether one was told.
    pub fn make_room(&self) -> bool {
        let now = self.now_ms();
        let inner = self.lock();
        let idle = || {
            inner
                .open
                .values()
                .filter(|c| !c.busy.load(Ordering::SeqCst))
        };
        let closing = |c: &&Arc<Conn>| c.closing.load(Ordering::SeqCst);
        if idle()
            .any(|c| closing(&c) && now < c.closing_since.load(Ordering::SeqCst) + CLOSING_WAIT_MS)
        {
            return false;
        }
        // A connection that never began a request has been idle since it opened.
        let settled = |c: &&Arc<Conn>| {
            c.had_requests() || now >= c.idle_since.load(Ordering::SeqCst) + FRESH_GRACE_MS
        };
        match idle()
            .filter(|c| !closing(c))
            .filter(settled)
            .min_by_key(|c| (c.idle_since.load(Ordering::SeqCst), c.id))
        {
            Some(victim) => {
                victim.tell_to_close(now);
                true
            }
            None => false,
        }
    }

    /// Tell every open connection to close (the server stops).
    pub fn close_all(&self) {
        let now = self.now_ms();
        for conn in self.lock().open.values() {
            conn.tell_to_close(now);
        }
    }

    /// Resolves when a connection finishes an answer after this is first polled (or once if
    /// one did since the last such wait).
    pub async fn some_became_idle(&self) {
        self.idle.notified().await;
    }

    /// Connections open now.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.lock().open.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("address")
    }

    #[test]
    fn the_limit_is_an_eighth_of_the_connections_at_least_four() {
        assert_eq!(per_address_limit(256), 32);
        assert_eq!(per_address_limit(10_000), 1250);
        assert_eq!(per_address_limit(16), 4);
        assert_eq!(per_address_limit(2), 2);
    }

    #[test]
    fn ipv6_clients_count_by_their_64_network_and_mapped_ipv4_as_ipv4() {
        assert_eq!(
            Client::of(ip("2001:db8:1:2:aaaa::1")),
            Client::of(ip("2001:db8:1:2:bbbb::9"))
        );
        assert_ne!(
            Client::of(ip("2001:db8:1:2::1")),
            Client::of(ip("2001:db8:1:3::1"))
        );
        assert_eq!(
            Client::of(ip("::ffff:192.0.2.7")),
            Client::of(ip("192.0.2.7"))
        );
        assert_ne!(Client::of(ip("192.0.2.7")), Client::of(ip("192.0.2.8")));
    }

    #[test]
    fn requests_in_progress_are_limited_per_address_except_loopback() {
        let conns = Conns::new(2, Exempt::loopback_and(Vec::new()));
        let a: Vec<Registered> = (0..3).map(|_| conns.open(ip("192.0.2.7"))).collect();
        let b = conns.open(ip("192.0.2.8"));
        let first = conns.begin(a[0].conn()).expect("first");
        let second = conns.begin(a[1].conn()).expect("second");
        assert!(conns.begin(a[2].conn()).is_none(), "a third at once");
        assert!(conns.begin(b.conn()).is_some(), "another address");
        drop(first);
        assert!(conns.begin(a[2].conn()).is_some(), "one ended");
        drop(second);
        let local: Vec<Registered> = (0..5).map(|_| conns.open(ip("127.0.0.1"))).collect();
        let busy: Vec<Busy> = local.iter().filter_map(|c| conns.begin(c.conn())).collect();
        assert_eq!(busy.len(), 5, "loopback is not limited");
        let mapped = conns.open(ip("::ffff:127.0.0.1"));
        assert!(mapped.conn().client.is_none());
    }

    #[test]
    fn the_configured_proxies_are_not_limited_either() {
        let proxies = ["192.0.2.7/32", "2001:db8:5::/48"]
            .map(|n| n.parse().expect("network"))
            .to_vec();
        let conns = Conns::new(2, Exempt::loopback_and(proxies));
        for peer in [
            "192.0.2.7",
            "::ffff:192.0.2.7",
            "2001:db8:5:1::9",
            "127.0.0.1",
        ] {
            let open: Vec<Registered> = (0..5).map(|_| conns.open(ip(peer))).collect();
            let busy: Vec<Busy> = open.iter().filter_map(|c| conns.begin(c.conn())).collect();
            assert_eq!(busy.len(), 5, "{peer} is not limited");
        }
        for peer in ["192.0.2.8", "2001:db8:6::1"] {
            let open: Vec<Registered> = (0..3).map(|_| conns.open(ip(peer))).collect();
            let busy: Vec<Busy> = open.iter().filter_map(|c| conns.begin(c.conn())).collect();
            assert_eq!(busy.len(), 2, "{peer} is limited");
        }
        let none = Conns::new(2, Exempt::only(Vec::new()));
        let open: Vec<Registered> = (0..3).map(|_| none.open(ip("127.0.0.1"))).collect();
        let busy: Vec<Busy> = open.iter().filter_map(|c| none.begin(c.conn())).collect();
        assert_eq!(busy.len(), 2, "loopback too when not spared");
    }

    /// `conn` after one request answered: idle, and no longer new.
    fn spoke(conns: &Arc<Conns>, conn: Registered) -> Registered {
        drop(conns.begin(conn.conn()).expect("a request"));
        conn
    }

    #[test]
    fn a_connection_that_has_not_begun_a_request_is_given_time_first() {
        let conns = Conns::new(8, Exempt::loopback_and(Vec::new()));
        let fresh = conns.open(ip("192.0.2.1"));
        assert!(!conns.make_room(), "its request may be on its way");
        assert!(!fresh.conn().closing.load(Ordering::SeqCst));
        let spoken = spoke(&conns, conns.open(ip("192.0.2.2")));
        assert!(
            conns.make_room(),
            "an idle one that has spoken gives way at once"
        );
        assert!(spoken.conn().closing.load(Ordering::SeqCst));
        drop(spoken);
        std::thread::sleep(std::time::Duration::from_millis(FRESH_GRACE_MS + 10));
        assert!(conns.make_room(), "silent for that long, it gives way");
        assert!(fresh.conn().closing.load(Ordering::SeqCst));
    }

    #[test]
    fn the_connection_idle_the_longest_gives_way_one_at_a_time() {
        let conns = Conns::new(8, Exempt::loopback_and(Vec::new()));
        let old = spoke(&conns, conns.open(ip("192.0.2.1")));
        std::thread::sleep(std::time::Duration::from_millis(5));
        let busy = conns.open(ip("192.0.2.2"));
        let newer = spoke(&conns, conns.open(ip("192.0.2.3")));
        let _answering = conns.begin(busy.conn()).expect("busy");
        assert!(conns.make_room());
        assert!(old.conn().closing.load(Ordering::SeqCst));
        assert!(!newer.conn().closing.load(Ordering::SeqCst));
        // The first is still closing: nobody else is told meanwhile, unless it takes long.
        assert!(!conns.make_room());
        assert!(!newer.conn().closing.load(Ordering::SeqCst));
        std::thread::sleep(std::time::Duration::from_millis(CLOSING_WAIT_MS + 10));
        assert!(conns.make_room(), "the first takes long: the next is told");
        assert!(newer.conn().closing.load(Ordering::SeqCst));
        drop(newer);
        let newest = spoke(&conns, conns.open(ip("192.0.2.4")));
        drop(old);
        assert_eq!(conns.len(), 2);
        assert!(conns.make_room());
        assert!(
            newest.conn().closing.load(Ordering::SeqCst),
            "the only idle one"
        );
        drop(newest);
        assert!(!conns.make_room(), "every connection left is busy");
        assert!(!busy.conn().closing.load(Ordering::SeqCst));
    }
}
