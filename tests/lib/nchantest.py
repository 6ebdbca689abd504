"""nchantest — starts a real nchan server for the integration tests: nginx
with Debian's libnginx-mod-nchan, from a generated config (daemon off, one
process, prefix = a temporary folder, loopback on a free port), and always
stops it. Locations: POST /pub/<ch> publishes, /sub/<ch> subscribes (SSE,
WebSocket, long-poll)."""
import os
import shutil
import socket
import subprocess
import tempfile
import time

import rtctest

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
MODULE = "/usr/lib/nginx/modules/ngx_nchan_module.so"

CONF = """load_module {module};
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
  server {{
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
  }}
}}
"""


def available():
    """Why nchan cannot run here, or None when it can."""
    if not os.path.exists(NGINX):
        return "nginx is not installed (scripts/deps.sh installs nginx-light)"
    if not os.path.exists(MODULE):
        return "libnginx-mod-nchan is not installed (scripts/deps.sh installs it)"
    return None


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Nchan:
    """A running nginx+nchan: .url, .dir, .proc (rtctest.Proc)."""

    def __init__(self, buffer=1000, sub_timeout="5s", require=None, tls=None, prefix=""):
        """require: (header name, value) every request must carry, else 403.
        tls: (certificate file, key file): serve https on the port.
        prefix: a path the locations sit under ("/rt": /rt/pub/<ch>, /rt/sub/<ch>)."""
        self.dir = tempfile.mkdtemp(prefix="rtchaos-nchan-", dir=os.environ.get("TMPDIR", "/tmp"))
        self.proc = None
        # a free port may be taken between the probe and nginx's bind: try a few
        for _ in range(5):
            port = _free_port()
            with open(os.path.join(self.dir, "nginx.conf"), "w") as f:
                auth = ""
                if require:
                    var = "$http_" + require[0].lower().replace("-", "_")
                    auth = f'if ({var} != "{require[1]}") {{ return 403; }}'
                if tls:
                    auth += f" ssl_certificate {tls[0]}; ssl_certificate_key {tls[1]};"
                f.write(CONF.format(module=MODULE, dir=self.dir, port=port, buffer=buffer, sub_timeout=sub_timeout,
                                    auth=auth, ssl=" ssl" if tls else "", prefix=prefix))
            p = subprocess.Popen([NGINX, "-p", self.dir, "-c", os.path.join(self.dir, "nginx.conf")],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            rtctest._children.append(p)
            if self._ready(p, port):
                self.proc, self.port = p, port
                self.url = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
                return
            if p.poll() is None:
                p.kill()
            p.wait()
        raise AssertionError("nginx+nchan did not start; error.log:\n" + self.log())

    def _ready(self, p, port, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if p.poll() is not None:
                return False
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                return True
            except OSError:
                time.sleep(0.05)
        return False

    def log(self):
        try:
            with open(os.path.join(self.dir, "error.log"), errors="replace") as f:
                return f.read()[-3000:]
        except OSError:
            return "(no error.log)"

    def stop(self):
        """Stops nginx (SIGQUIT: graceful, then SIGKILL) and removes its folder."""
        p = self.proc
        if p and p.poll() is None:
            p.send_signal(3)
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
