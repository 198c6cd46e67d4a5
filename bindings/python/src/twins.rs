//! One list of operations, two Python classes: `$sync` blocks with the GIL
//! released, `$async` returns an awaitable. Each body is an `async` block
//! over `dw: doorward::Doorward` that returns `doorward::Result<T>` where the
//! declared result type is `From<T>` (`Done` for `()`, which Python must see
//! as `None`, not as an empty tuple); the arguments are owned, since the
//! awaitable outlives the call.

macro_rules! twins {
    (
        $sync:ident, $async:ident;
        $(
            $(#[$meta:meta])*
            fn $name:ident($dw:ident $(, $arg:ident : $ty:ty)* $(,)?) -> $ret:ty $body:block
        )*
    ) => {
        #[pyo3::pymethods]
        impl $sync {
            $(
                $(#[$meta])*
                fn $name(
                    &self,
                    py: pyo3::Python<'_>,
                    $($arg: $ty),*
                ) -> pyo3::PyResult<$ret> {
                    let $dw = self.handle.get(py)?;
                    crate::runtime::block_on(py, async move { $body.map(<$ret>::from) })
                }
            )*
        }

        #[pyo3::pymethods]
        impl $async {
            $(
                $(#[$meta])*
                fn $name<'py>(
                    &self,
                    py: pyo3::Python<'py>,
                    $($arg: $ty),*
                ) -> pyo3::PyResult<pyo3::Bound<'py, pyo3::PyAny>> {
                    let $dw = self.handle.get(py)?;
                    crate::runtime::awaitable::<$ret, _>(py, async move { $body.map(<$ret>::from) })
                }
            )*
        }
    };
}

/// A sync and an async sub-API class over one handle.
macro_rules! sub_api {
    ($(#[$meta:meta])* $sync:ident, $async:ident) => {
        $(#[$meta])*
        #[pyo3::pyclass(frozen, module = "doorward")]
        pub struct $sync {
            pub(crate) handle: std::sync::Arc<crate::handle::Handle>,
        }

        $(#[$meta])*
        #[pyo3::pyclass(frozen, module = "doorward")]
        pub struct $async {
            pub(crate) handle: std::sync::Arc<crate::handle::Handle>,
        }
    };
}
