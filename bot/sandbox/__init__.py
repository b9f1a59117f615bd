"""`reviewbridge sandbox`: the real bot, the Discord emulator and a built-in blog, on a local page.

`runner.run_sandbox` starts everything (the CLI's `serve_sandbox` runs it until Ctrl-C),
`world` builds the emulated server, `seed` the blog's reviews, `fake_wordpress` is the blog
(also the tests' fake), `views` and `web` are the page and its JSON API.
"""
