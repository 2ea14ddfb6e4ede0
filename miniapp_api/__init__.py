"""WeChat mini-program and official-account endpoints (``/miniapp/v1``, ``/wechat/official``)."""
