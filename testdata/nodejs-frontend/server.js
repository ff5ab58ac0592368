// A frontend for odod's link test: GET /call/NAME calls what the component
// is linked to under NAME, at the host and port odo's link put into its
// environment (COMPONENT_<NAME>_HOST and COMPONENT_<NAME>_PORT), and
// answers "NAME says: <its answer>", or "no link to NAME".
const http = require('http');

const port = Number(process.env.PORT || 8080);
http
  .createServer((req, res) => {
    const m = /^\/call\/([a-z0-9-]+)$/.exec(req.url);
    if (!m) {
      res.writeHead(404);
      res.end('try /call/NAME\n');
      return;
    }
    const name = m[1];
    const key = 'COMPONENT_' + name.toUpperCase().replace(/-/g, '_');
    const host = process.env[key + '_HOST'];
    const hostPort = process.env[key + '_PORT'];
    if (!host || !hostPort) {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('no link to ' + name + '\n');
      return;
    }
    http
      .get({ host, port: Number(hostPort), path: '/', timeout: 5000 }, (up) => {
        let body = '';
        up.on('data', (d) => (body += d));
        up.on('end', () => {
          res.writeHead(200, { 'Content-Type': 'text/plain' });
          res.end(name + ' says: ' + body.trim() + '\n');
        });
      })
      .on('timeout', function () {
        this.destroy(new Error('timeout'));
      })
      .on('error', (e) => {
        res.writeHead(502, { 'Content-Type': 'text/plain' });
        res.end(name + ' at ' + host + ':' + hostPort + ' failed: ' + e.message + '\n');
      });
  })
  .listen(port, () => console.log(`odod-frontend listening on ${port}`));
