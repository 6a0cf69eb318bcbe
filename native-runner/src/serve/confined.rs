//! The file system as `ipclab serve` sees it: the served directory and nothing else.
//!
//! tower-http's `ServeDir` turns a request path into a file path (percent-decoding it and refusing `..`)
//! and asks its [`Backend`] to open it. This backend opens that path one component at a time from a
//! descriptor of the served directory with `openat(2)` and `O_NOFOLLOW`, so no symbolic link is ever
//! followed, whether it points inside the directory or out of it (a link to `/etc` serves nothing), and
//! there is no window between checking a path and opening it. Only regular files and directories are
//! served: a FIFO or a device in the directory is opened without blocking (`O_NONBLOCK`) and refused.
//! Every refusal looks like a missing file (404).

use std::ffi::{CString, OsStr};
use std::future::Future;
use std::io;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncSeek, ReadBuf};
use tower_http::services::fs::{Backend, File};

/// A [`Backend`] that opens files under one directory only, never through a symbolic link.
#[derive(Clone)]
pub struct Confined {
    /// The served directory, opened once at start (`O_PATH`).
    root: Arc<OwnedFd>,
    /// The path `ServeDir` puts in front of every request path; stripped again before opening.
    base: PathBuf,
}

impl Confined {
    /// Opens `dir` (following symbolic links here only: the user named it) as the served directory.
    /// `ServeDir` must be given the same `dir` as its base.
    pub fn new(dir: &Path) -> io::Result<Confined> {
        let name = CString::new(dir.as_os_str().as_bytes())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "the path holds a NUL byte"))?;
        // SAFETY: a plain open of a NUL-terminated path.
        let fd = unsafe { libc::open(name.as_ptr(), libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` was just opened and nobody else owns it.
        let root = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(Confined { root: Arc::new(root), base: dir.to_path_buf() })
    }

    /// Opens `path` (a path `ServeDir` built: the base, then the request's components) for reading.
    pub fn open_beneath(&self, path: &Path) -> io::Result<std::fs::File> {
        let relative = path.strip_prefix(&self.base).map_err(|_| refused())?;
        let mut names: Vec<&OsStr> = Vec::new();
        for component in relative.components() {
            match component {
                Component::Normal(name) => names.push(name),
                Component::CurDir => {}
                // ServeDir never passes these; refusing them here keeps the rule in one place.
                Component::ParentDir | Component::RootDir | Component::Prefix(_) => return Err(refused()),
            }
        }
        let Some((last, parents)) = names.split_last() else {
            return open_at(self.root.as_fd().as_raw_fd(), OsStr::new("."), libc::O_RDONLY | libc::O_DIRECTORY)
                .map(std::fs::File::from);
        };
        let mut directory: Option<OwnedFd> = None;
        for name in parents {
            let parent = directory.as_ref().map_or(self.root.as_raw_fd(), |fd| fd.as_raw_fd());
            directory = Some(open_at(parent, name, libc::O_PATH | libc::O_DIRECTORY)?);
        }
        let parent = directory.as_ref().map_or(self.root.as_raw_fd(), |fd| fd.as_raw_fd());
        let file = std::fs::File::from(open_at(parent, last, libc::O_RDONLY | libc::O_NONBLOCK)?);
        let file_type = file.metadata()?.file_type();
        if file_type.is_file() || file_type.is_dir() {
            Ok(file)
        } else {
            Err(refused())
        }
    }
}

/// What every refusal looks like from outside: a file that is not there.
fn refused() -> io::Error {
    io::Error::from(io::ErrorKind::NotFound)
}

/// `openat(parent, name, flags | O_NOFOLLOW | O_CLOEXEC)`; a symbolic link (`ELOOP`, or `ENOTDIR` for
/// a link where a directory was expected) counts as missing.
fn open_at(parent: i32, name: &OsStr, flags: libc::c_int) -> io::Result<OwnedFd> {
    let name = CString::new(name.as_bytes()).map_err(|_| refused())?;
    // SAFETY: `parent` is an open directory descriptor and `name` is NUL-terminated.
    let fd = unsafe { libc::openat(parent, name.as_ptr(), flags | libc::O_NOFOLLOW | libc::O_CLOEXEC) };
    if fd < 0 {
        let error = io::Error::last_os_error();
        return match error.raw_os_error() {
            Some(libc::ELOOP) | Some(libc::ENOTDIR) | Some(libc::ENOENT) => Err(refused()),
            _ => Err(error),
        };
    }
    // SAFETY: `fd` was just opened and nobody else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

type Boxed<T> = Pin<Box<dyn Future<Output = io::Result<T>> + Send>>;

/// Runs a blocking open on tokio's blocking pool, as `tokio::fs` does.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> io::Result<T> + Send + 'static) -> io::Result<T> {
    tokio::task::spawn_blocking(work).await.map_err(io::Error::other)?
}

impl Backend for Confined {
    type File = ConfinedFile;
    type Metadata = std::fs::Metadata;
    type OpenFuture = Boxed<ConfinedFile>;
    type MetadataFuture = Boxed<std::fs::Metadata>;

    fn open(&self, path: PathBuf) -> Self::OpenFuture {
        let confined = self.clone();
        Box::pin(async move {
            let file = blocking(move || confined.open_beneath(&path)).await?;
            Ok(ConfinedFile(tokio::fs::File::from_std(file)))
        })
    }

    fn metadata(&self, path: PathBuf) -> Self::MetadataFuture {
        let confined = self.clone();
        Box::pin(blocking(move || confined.open_beneath(&path)?.metadata()))
    }
}

/// A file opened by [`Confined`].
pub struct ConfinedFile(tokio::fs::File);

impl AsyncRead for ConfinedFile {
    fn poll_read(mut self: Pin<&mut Self>, context: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(context, buf)
    }
}

impl AsyncSeek for ConfinedFile {
    fn start_seek(mut self: Pin<&mut Self>, position: io::SeekFrom) -> io::Result<()> {
        Pin::new(&mut self.0).start_seek(position)
    }

    fn poll_complete(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<u64>> {
        Pin::new(&mut self.0).poll_complete(context)
    }
}

impl File for ConfinedFile {
    type Metadata = std::fs::Metadata;
    type MetadataFuture<'a> = Pin<Box<dyn Future<Output = io::Result<std::fs::Metadata>> + Send + 'a>>;

    fn metadata(&self) -> Self::MetadataFuture<'_> {
        Box::pin(self.0.metadata())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_outside_the_directory_and_no_symbolic_link_is_opened() {
        let scratch = std::env::temp_dir().join(format!("ipclab-confined-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&scratch);
        let root = scratch.join("dist");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(root.join("index.html"), "hi").unwrap();
        std::fs::write(root.join("sub").join("a.js"), "x").unwrap();
        std::fs::write(scratch.join("secret.txt"), "secret").unwrap();
        std::os::unix::fs::symlink("/etc", root.join("etc")).unwrap();
        std::os::unix::fs::symlink("../secret.txt", root.join("leak.txt")).unwrap();
        std::os::unix::fs::symlink("index.html", root.join("inside.html")).unwrap();
        std::os::unix::fs::symlink(root.join("sub"), root.join("subdir")).unwrap();
        nix::unistd::mkfifo(&root.join("fifo"), nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();

        let confined = Confined::new(&root).unwrap();
        let read = |relative: &str| {
            confined.open_beneath(&root.join(relative)).map(|mut file| {
                let mut text = String::new();
                std::io::Read::read_to_string(&mut file, &mut text).map(|_| text).unwrap_or_default()
            })
        };
        assert_eq!(read("index.html").unwrap(), "hi");
        assert_eq!(read("sub/a.js").unwrap(), "x");
        assert!(confined.open_beneath(&root).unwrap().metadata().unwrap().is_dir());
        for refused in ["etc/passwd", "etc", "leak.txt", "inside.html", "subdir/a.js", "fifo", "missing", "sub/../.."] {
            let error = read(refused).expect_err(refused);
            assert_eq!(error.kind(), io::ErrorKind::NotFound, "{refused}: {error}");
        }
        // A path that does not start at the base is refused too.
        assert_eq!(confined.open_beneath(&scratch.join("secret.txt")).unwrap_err().kind(), io::ErrorKind::NotFound);
        std::fs::remove_dir_all(&scratch).unwrap();
    }
}
