// A tiny HTTP app: odod's end-to-end test edits the greeting and checks
// that the running app answers with the new one after a push.
const http = require('http');
const { greeting } = require('./lib/greeting');

const port = Number(process.env.PORT || 8080);
http
  .createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end(greeting() + '\n');
  })
  .listen(port, () => console.log(`odod-hello listening on ${port}`));
