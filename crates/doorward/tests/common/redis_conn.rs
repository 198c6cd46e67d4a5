//! A plain connection to the test Redis (one server or a cluster), for
//! tests that look at or change what doorward keeps there.
#![allow(dead_code)]

/// A plain connection to the test Redis, to look at or change what
/// doorward keeps there: one server or the whole cluster.
#[derive(Clone)]
pub enum RedisConn {
    Single(redis::aio::MultiplexedConnection),
    Cluster(redis::cluster_async::ClusterConnection),
}

pub async fn connect(url: &str) -> RedisConn {
    if let Some(rest) = url.strip_prefix("redis+cluster://") {
        let (authority, tail) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let (user, hosts) = match authority.rsplit_once('@') {
            Some((user, hosts)) => (format!("{user}@"), hosts),
            None => (String::new(), authority),
        };
        let nodes: Vec<String> = hosts
            .split(',')
            .map(|h| format!("redis://{user}{h}{tail}"))
            .collect();
        let client = redis::cluster::ClusterClient::new(nodes).unwrap();
        RedisConn::Cluster(client.get_async_connection().await.unwrap())
    } else {
        let client = redis::Client::open(url).unwrap();
        RedisConn::Single(client.get_multiplexed_async_connection().await.unwrap())
    }
}

impl redis::aio::ConnectionLike for RedisConn {
    fn req_packed_command<'a>(
        &'a mut self,
        cmd: &'a redis::Cmd,
    ) -> redis::RedisFuture<'a, redis::Value> {
        match self {
            RedisConn::Single(c) => c.req_packed_command(cmd),
            RedisConn::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> redis::RedisFuture<'a, Vec<redis::Value>> {
        match self {
            RedisConn::Single(c) => c.req_packed_commands(pipeline, offset, count),
            RedisConn::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        0
    }
}
