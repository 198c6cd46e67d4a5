//! One connection type for a single Redis and a Redis Cluster, so every
//! command, pipeline and script above is written once.
//!
//! A cluster is named by `redis+cluster://[user:pass@]host:port,host:port/`:
//! the seed nodes, from which the client learns the slot map and follows it
//! through failovers. Three things differ on a cluster and live here:
//! a SCAN covers each primary in turn, a write can be made to wait for a
//! replica's copy (`WAIT`, routed to the key's primary), and the
//! invalidation listener subscribes to one node at a time (a plain
//! `PUBLISH` on a cluster reaches every node, primaries and replicas).

use ::redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use ::redis::cluster::{ClusterClientBuilder, ClusterConfig};
use ::redis::cluster_async::ClusterConnection;
use ::redis::cluster_routing::{Route, RoutingInfo, SingleNodeRoutingInfo, SlotAddr};
use ::redis::{Client, Cmd, Pipeline, RedisFuture, RedisResult, Value};
use std::time::Duration;

use crate::error::{Error, Result};

const CLUSTER_SCHEME: &str = "redis+cluster://";

/// A multiplexed handle on a single server or on a whole cluster; cheap to
/// clone, reconnects (and, on a cluster, re-reads the slot map) by itself.
#[derive(Clone)]
pub(crate) enum Conn {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Conn::Single(c) => c.req_packed_command(cmd),
            Conn::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Conn::Single(c) => c.req_packed_commands(pipeline, offset, count),
            Conn::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Single(c) => c.get_db(),
            Conn::Cluster(_) => 0,
        }
    }
}

/// The connection, and a client per node for the pub/sub listener.
pub(crate) struct Connected {
    pub conn: Conn,
    pub pubsub: Vec<Client>,
}

/// Open `url` lazily: nothing is contacted yet, so an application can start
/// before its Redis.
pub(crate) fn open(url: &str, timeout: Duration) -> Result<Connected> {
    match cluster_nodes(url) {
        Some(nodes) => {
            let nodes = nodes?;
            let clients = nodes
                .iter()
                .map(|n| Client::open(n.as_str()))
                .collect::<RedisResult<Vec<_>>>()
                .map_err(invalid)?;
            let cluster = ClusterClientBuilder::new(nodes)
                .connection_timeout(timeout)
                .response_timeout(timeout)
                // Retries, redirections and slot refreshes of one call stay
                // within one timeout: during a failover a call fails with
                // storage_error instead of hanging until the vote ends.
                .overall_response_timeout(Some(timeout))
                .retries(3)
                .min_retry_wait(10)
                .max_retry_wait(200)
                .build()
                .map_err(invalid)?;
            let config = ClusterConfig::new()
                .set_connection_timeout(timeout)
                .set_response_timeout(timeout);
            Ok(Connected {
                conn: Conn::Cluster(cluster.get_pending_async_connection_with_config(config)),
                pubsub: clients,
            })
        }
        None => {
            let client = Client::open(url).map_err(invalid)?;
            let manager_config = ConnectionManagerConfig::new()
                .set_connection_timeout(Some(timeout))
                .set_response_timeout(Some(timeout))
                .set_number_of_retries(2)
                .set_min_delay(Duration::from_millis(10))
                .set_max_delay(Duration::from_millis(500));
            let conn = ConnectionManager::new_lazy_with_config(client.clone(), manager_config)
                .map_err(|e| Error::Config(format!("cannot use redis_url: {}", e.category())))?;
            Ok(Connected {
                conn: Conn::Single(conn),
                pubsub: vec![client],
            })
        }
    }
}

fn invalid(e: ::redis::RedisError) -> Error {
    // The category only: the error text may quote the URL and its password.
    Error::Config(format!("invalid redis_url: {}", e.category()))
}

/// The seed nodes of a `redis+cluster://` URL as `redis://` URLs, each with
/// the URL's credentials, path and query; None for any other URL.
fn cluster_nodes(url: &str) -> Option<Result<Vec<String>>> {
    let rest = url.strip_prefix(CLUSTER_SCHEME)?;
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let (userinfo, hosts) = match authority.rsplit_once('@') {
        Some((user, hosts)) => (format!("{user}@"), hosts),
        None => (String::new(), authority),
    };
    let nodes: Vec<String> = hosts
        .split(',')
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .map(|host| format!("redis://{userinfo}{host}{tail}"))
        .collect();
    Some(if nodes.is_empty() {
        Err(Error::Config(
            "redis_url: a redis+cluster:// URL names no node".into(),
        ))
    } else {
        Ok(nodes)
    })
}

impl Conn {
    /// Whether this is a cluster.
    pub(crate) fn is_cluster(&self) -> bool {
        matches!(self, Conn::Cluster(_))
    }

    /// The address of every primary, as `(host, port)`; the one server
    /// itself (as `None`) when not a cluster.
    pub(crate) async fn primaries(&mut self) -> RedisResult<Vec<Option<(String, u16)>>> {
        let Conn::Cluster(cluster) = self else {
            return Ok(vec![None]);
        };
        let nodes = cluster
            .route_command(
                ::redis::cmd("CLUSTER").arg("NODES").clone(),
                RoutingInfo::SingleNode(SingleNodeRoutingInfo::Random),
            )
            .await?;
        let text: String = ::redis::from_redis_value(nodes)?;
        Ok(parse_primaries(&text).into_iter().map(Some).collect())
    }

    /// Run `cmd` on one node: `None` is the single server (or, on a
    /// cluster, any node).
    pub(crate) async fn on_node<T: ::redis::FromRedisValue>(
        &mut self,
        node: &Option<(String, u16)>,
        cmd: &Cmd,
    ) -> RedisResult<T> {
        match (self, node) {
            (Conn::Cluster(cluster), Some((host, port))) => {
                let routing = RoutingInfo::SingleNode(SingleNodeRoutingInfo::ByAddress {
                    host: host.clone(),
                    port: *port,
                });
                Ok(::redis::from_redis_value(
                    cluster.route_command(cmd.clone(), routing).await?,
                )?)
            }
            (conn, _) => cmd.query_async(conn).await,
        }
    }

    /// `WAIT replicas timeout` on the primary that holds `key`: how many of
    /// its replicas have every write made so far through this connection.
    pub(crate) async fn wait_for_replicas(
        &mut self,
        key: &str,
        replicas: u32,
        timeout: Duration,
    ) -> RedisResult<u32> {
        let mut cmd = ::redis::cmd("WAIT");
        cmd.arg(replicas).arg(timeout.as_millis() as u64);
        match self {
            Conn::Cluster(cluster) => {
                let routing = RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(
                    Route::with_key(key, SlotAddr::Master),
                ));
                Ok(::redis::from_redis_value(
                    cluster.route_command(cmd, routing).await?,
                )?)
            }
            conn => cmd.query_async(conn).await,
        }
    }
}

/// The primaries in `CLUSTER NODES` output that serve slots and are not
/// failed: `<id> <ip:port@cport[,hostname]> <flags> <master> … <slots>`.
fn parse_primaries(text: &str) -> Vec<(String, u16)> {
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let flags = fields.get(2)?;
            let is_primary = flags.split(',').any(|f| f == "master")
                && !flags.split(',').any(|f| f == "fail" || f == "noaddr");
            if !is_primary || fields.len() < 9 {
                return None;
            }
            let address = fields[1].split(['@', ',']).next()?;
            let (host, port) = address.rsplit_once(':')?;
            Some((host.to_string(), port.parse().ok()?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_urls_name_their_seed_nodes() {
        assert!(cluster_nodes("redis://h:1").is_none());
        assert_eq!(
            cluster_nodes("redis+cluster://h1:7000,h2:7001").map(|r| r.unwrap()),
            Some(vec![
                "redis://h1:7000".to_string(),
                "redis://h2:7001".into()
            ])
        );
        assert_eq!(
            cluster_nodes("redis+cluster://u:p@w@h1:7000, h2:7001/?protocol=resp3")
                .map(|r| r.unwrap()),
            Some(vec![
                "redis://u:p@w@h1:7000/?protocol=resp3".to_string(),
                "redis://u:p@w@h2:7001/?protocol=resp3".into()
            ])
        );
        assert!(matches!(
            cluster_nodes("redis+cluster://"),
            Some(Err(Error::Config(_)))
        ));
    }

    #[test]
    fn cluster_nodes_output_gives_live_primaries() {
        let text = "\
a1 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-5460
b2 127.0.0.1:7003@17003 slave a1 0 1 4 connected
c3 127.0.0.1:7001@17001,node-b master - 0 1 2 connected 5461-10922
d4 127.0.0.1:7002@17002 master,fail - 0 1 3 disconnected
e5 127.0.0.1:7005@17005 master - 0 1 7 connected
";
        assert_eq!(
            parse_primaries(text),
            vec![
                ("127.0.0.1".to_string(), 7000),
                ("127.0.0.1".to_string(), 7001)
            ]
        );
    }
}
