"""A self-contained static HTML viewer (no network, no CDN): object cloud, target path and hand motion."""

from unihm_common.viewer.page import viewer_data, write_viewer

__all__ = ["viewer_data", "write_viewer"]
