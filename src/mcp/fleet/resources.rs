//! A host's resources, `docker://hosts/{host}/containers…`, read through
//! its agent.

use super::*;

/// A host's resource URI, `docker://hosts/{host}/containers…`: the host
/// as given, and the URI it means on that host (`docker://containers…`).
pub fn host_uri(uri: &str) -> Option<(&str, String)> {
    let rest = uri.strip_prefix("docker://hosts/")?;
    let (host, path) = rest.split_once('/')?;
    let tail = path.strip_prefix("containers")?;
    let inner = format!("docker://containers{tail}");
    (!host.is_empty()).then_some((host, inner))
}

/// `resources/read` of `inner` on `member`, known here as `host`, for the
/// URI `uri`: the owner's contents, named by `uri`, or its error (one with
/// `data.uri` is "not found").
pub async fn read(
    ctx: &Ctx<'_>,
    (member, host): (&Remote, &str),
    inner: &str,
    uri: &str,
) -> Result<Value, RpcError> {
    let params = json!({"uri": inner, "_meta": meta(ctx, &Value::Null, host)});
    let progress = Progress::default();
    let sent = send(
        ctx,
        member,
        host,
        "resources/read",
        inner,
        params,
        &progress,
    )
    .await;
    let mut result = match sent {
        Ok(result) => result,
        Err(Failed::Rpc(e)) => return Err(e),
        Err(Failed::Host(why)) => {
            return Err(RpcError::new(
                INTERNAL_ERROR,
                Error::HostUnreachable(host.into(), why).message(),
            ));
        }
    };
    if let Some(contents) = result["contents"].as_array_mut() {
        for c in contents {
            c["uri"] = json!(uri);
        }
    }
    if let Some(fields) = result.as_object_mut() {
        fields.remove("resultType");
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn a_host_s_uri_names_the_host_and_the_uri_it_means_there() {
        assert_eq!(
            host_uri("docker://hosts/two/containers"),
            Some(("two", "docker://containers".into()))
        );
        assert_eq!(
            host_uri("docker://hosts/vm~4qox/containers/web/logs"),
            Some(("vm~4qox", "docker://containers/web/logs".into()))
        );
        for bad in [
            "docker://hosts/two",
            "docker://hosts//containers",
            "docker://hosts/two/images",
            "docker://containers/web",
        ] {
            assert_eq!(host_uri(bad), None, "{bad}");
        }
    }
}
