//! Kubernetes names from the kubelet's log directory, which any runtime behind the kubelet
//! (containerd, CRI-O, cri-dockerd) has: the kubelet links every container's log as
//! `containers/<pod>_<namespace>_<container>-<container id>.log` and keeps each pod's logs in
//! `pods/<namespace>_<pod>_<pod uid>/`. Kubernetes names cannot contain `_`, so the names read
//! back unambiguously. Only the directories are listed; no log is opened.

use std::collections::HashMap;
use std::io;
use std::path::Path;

/// A pod's names and the name of a container in it, each as far as known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodNames {
    pub pod: Option<String>,
    pub namespace: Option<String>,
    /// The container's name in the pod spec (for names found by container id).
    pub container: Option<String>,
}

/// What the kubelet's log directory names.
#[derive(Debug, Default)]
pub struct KubeletRecords {
    /// By container id: its pod, namespace and own name.
    pub by_container: HashMap<String, PodNames>,
    /// By pod uid: its name and namespace.
    pub by_pod_uid: HashMap<String, PodNames>,
}

/// Lists `<log_dir>/containers` and `<log_dir>/pods`. Fails only when neither can be listed.
pub fn read_records(log_dir: &Path) -> Result<KubeletRecords, String> {
    let mut records = KubeletRecords::default();
    let containers = entry_names(&log_dir.join("containers"));
    let pods = entry_names(&log_dir.join("pods"));
    if let (Err(e), Err(_)) = (&containers, &pods) {
        return Err(format!(
            "the kubelet's log directory {}/containers is unreadable: {e}",
            log_dir.display()
        ));
    }
    for name in containers.unwrap_or_default() {
        if let Some((id, names)) = parse_container_link(&name) {
            records.by_container.insert(id, names);
        }
    }
    for name in pods.unwrap_or_default() {
        if let Some((uid, names)) = parse_pod_dir(&name) {
            records.by_pod_uid.insert(uid, names);
        }
    }
    Ok(records)
}

fn entry_names(dir: &Path) -> io::Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        if let Some(name) = entry?.file_name().to_str() {
            names.push(name.to_owned());
        }
    }
    Ok(names)
}

/// `<pod>_<namespace>_<container>-<64 hex id>.log` as (id, names).
pub fn parse_container_link(file_name: &str) -> Option<(String, PodNames)> {
    let stem = file_name.strip_suffix(".log")?;
    let (names, id) = stem.rsplit_once('-')?;
    if id.len() != 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let [pod, namespace, container] = three_names(names)?;
    Some((
        id.to_owned(),
        PodNames {
            pod: Some(pod.to_owned()),
            namespace: Some(namespace.to_owned()),
            container: Some(container.to_owned()),
        },
    ))
}

/// `<namespace>_<pod>_<uid>` as (uid, names).
pub fn parse_pod_dir(dir_name: &str) -> Option<(String, PodNames)> {
    let [namespace, pod, uid] = three_names(dir_name)?;
    Some((
        uid.to_owned(),
        PodNames {
            pod: Some(pod.to_owned()),
            namespace: Some(namespace.to_owned()),
            container: None,
        },
    ))
}

/// Exactly three non-empty words joined by `_`.
fn three_names(text: &str) -> Option<[&str; 3]> {
    let mut words = text.split('_');
    let names = [words.next()?, words.next()?, words.next()?];
    (words.next().is_none() && names.iter().all(|w| !w.is_empty())).then_some(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn container_links_name_pod_namespace_and_container() {
        let (id, names) =
            parse_container_link(&format!("checkout-7f9c8d-x2x4q_prod_app-server-{ID}.log"))
                .unwrap();
        assert_eq!(id, ID);
        assert_eq!(names.pod.as_deref(), Some("checkout-7f9c8d-x2x4q"));
        assert_eq!(names.namespace.as_deref(), Some("prod"));
        assert_eq!(names.container.as_deref(), Some("app-server"));
        for not_a_link in [
            format!("checkout_prod_app-{ID}.txt"),
            format!("checkout_app-{ID}.log"),
            format!("a_b_c_d-{ID}.log"),
            "checkout_prod_app-1234.log".to_owned(),
            format!("_prod_app-{ID}.log"),
            format!("{ID}.log"),
        ] {
            assert_eq!(parse_container_link(&not_a_link), None, "{not_a_link}");
        }
    }

    #[test]
    fn pod_directories_name_namespace_pod_and_uid() {
        let (uid, names) = parse_pod_dir(
            "kube-system_coredns-5d78c9869d-abcde_0b2c0d7e-1a5e-4bd6-9a3f-2f1c4a1e9b7d",
        )
        .unwrap();
        assert_eq!(uid, "0b2c0d7e-1a5e-4bd6-9a3f-2f1c4a1e9b7d");
        assert_eq!(names.pod.as_deref(), Some("coredns-5d78c9869d-abcde"));
        assert_eq!(names.namespace.as_deref(), Some("kube-system"));
        assert_eq!(parse_pod_dir("kube-system_coredns"), None);
    }

    /// The real directory layout, made by the test: links and directories are read by name.
    #[test]
    fn records_are_read_from_the_directory_listing() {
        let root = std::env::temp_dir().join(format!("wiretop-kubelet-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("containers")).unwrap();
        let pod_dir = "prod_checkout-7f9c_0b2c0d7e-1a5e-4bd6-9a3f-2f1c4a1e9b7d";
        std::fs::create_dir_all(root.join("pods").join(pod_dir).join("app")).unwrap();
        std::os::unix::fs::symlink(
            root.join("pods").join(pod_dir).join("app/0.log"),
            root.join("containers")
                .join(format!("checkout-7f9c_prod_app-{ID}.log")),
        )
        .unwrap();
        std::fs::write(root.join("containers/README"), "not a link").unwrap();
        let records = read_records(&root);
        let _ = std::fs::remove_dir_all(&root);
        let records = records.unwrap();
        assert_eq!(records.by_container[ID].container.as_deref(), Some("app"));
        assert_eq!(records.by_container.len(), 1);
        assert_eq!(
            records.by_pod_uid["0b2c0d7e-1a5e-4bd6-9a3f-2f1c4a1e9b7d"]
                .pod
                .as_deref(),
            Some("checkout-7f9c")
        );
        let missing = read_records(Path::new("/nonexistent/wiretop-kubelet"));
        assert!(missing.is_err_and(|e| e.contains("/nonexistent/wiretop-kubelet/containers")),);
    }
}
