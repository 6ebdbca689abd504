"""nchantest — starts real nginx servers for the integration tests, from a
generated config (daemon off, one process, prefix = a temporary folder,
loopback on free ports), and always stops them: Nginx serves any server
block a test writes (target_tls.py: TLS in front of rtchaos-server); Nchan
is nginx with Debian's libnginx-mod-nchan. Nchan's locations: POST
/pub/<ch> publishes, /sub/<ch> subscribes (SSE, WebSocket, long-poll)."""
import os
import shutil
import signal
import tempfile

import daemontest

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
MODULE = "/usr/lib/nginx/modules/ngx_nchan_module.so"

# {load}: load_module lines; {server}: the server block(s)
CONF = """{load}
daemon off;
master_process off;
worker_processes 1;
error_log {dir}/error.log warn;
pid {dir}/nginx.pid;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {dir}/body;
  proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fastcgi;
  uwsgi_temp_path {dir}/uwsgi;
  scgi_temp_path {dir}/scgi;
{server}
}}
"""

NCHAN_SERVER = """  server {{
    listen 127.0.0.1:{port}{ssl};
    {auth}
    location ~ ^{prefix}/pub/([A-Za-z0-9._:-]+)$ {{
      nchan_publisher;
      nchan_channel_id $1;
      nchan_message_buffer_length {buffer};
      nchan_message_timeout 10m;
    }}
    location ~ ^{prefix}/sub/([A-Za-z0-9._:-]+)$ {{
      nchan_subscriber;
      nchan_channel_id $1;
      nchan_subscriber_first_message newest;
      nchan_subscriber_timeout {sub_timeout};
    }}
    location / {{ return 404; }}
  }}"""


def available():
    """Why nchan cannot run here, or None when it can."""
    if not os.path.exists(NGINX):
        return "nginx is not installed (scripts/deps.sh installs nginx-light)"
    if not os.path.exists(MODULE):
        return "libnginx-mod-nchan is not installed (scripts/deps.sh installs it)"
    return None


class Nginx:
    """A running nginx: .ports (its listening ports, in the order server() got them), .dir."""

    def __init__(self, server, nports=1, load="", what="nginx"):
        """server(ports) returns the http server block(s), listening on the
        nports free loopback ports it is given; ready once every port accepts."""
        self.dir = tempfile.mkdtemp(prefix="rtchaos-nginx-", dir=os.environ.get("TMPDIR", "/tmp"))
        conf = os.path.join(self.dir, "nginx.conf")

        def setup():
            ports = [daemontest.free_port() for _ in range(nports)]
            with open(conf, "w") as f:
                f.write(CONF.format(load=load, dir=self.dir, server=server(ports)))
            return [NGINX, "-p", self.dir, "-c", conf], ports
        try:
            self.d = daemontest.Daemon(what, setup, lambda ports: all(daemontest.port_open(p) for p in ports),
                                       log=os.path.join(self.dir, "error.log"))
        except AssertionError:
            shutil.rmtree(self.dir, ignore_errors=True)
            raise
        self.ports = self.d.info
        self.proc = self.d.p

    def log(self):
        return self.d.log()

    # the exit statuses a graceful stop may end with
    STOPPED = (0,)

    def stop(self):
        """Stops nginx (SIGQUIT: graceful; it must exit within 10 s, with a
        status in STOPPED) and removes its folder."""
        try:
            self.d.stop(sig=signal.SIGQUIT, expect=self.STOPPED)
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


class Nchan(Nginx):
    """A running nginx+nchan: .url, .port, .dir, .proc (Popen)."""

    # Debian 12's nchan module frees something twice when the one process
    # (master_process off) exits, on any signal: glibc aborts it after it
    # has served everything (SIGABRT), or the corrupted heap faults first
    # (SIGSEGV, seen once in CI under load). Its shutdown is not under test;
    # a crash while serving (an exit before the stop signal, which
    # daemontest.stop fails whatever the status) or a hang still fails.
    STOPPED = (0, -signal.SIGABRT, -signal.SIGSEGV)

    def __init__(self, buffer=1000, sub_timeout="5s", require=None, tls=None, prefix=""):
        """require: (header name, value) every request must carry, else 403.
        tls: (certificate file, key file): serve https on the port.
        prefix: a path the locations sit under ("/rt": /rt/pub/<ch>, /rt/sub/<ch>)."""
        auth = ""
        if require:
            var = "$http_" + require[0].lower().replace("-", "_")
            auth = f'if ({var} != "{require[1]}") {{ return 403; }}'
        if tls:
            auth += f" ssl_certificate {tls[0]}; ssl_certificate_key {tls[1]};"

        def server(ports):
            return NCHAN_SERVER.format(port=ports[0], buffer=buffer, sub_timeout=sub_timeout, auth=auth,
                                       ssl=" ssl" if tls else "", prefix=prefix)
        super().__init__(server, load=f"load_module {MODULE};", what="nginx+nchan")
        self.port = self.ports[0]
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
