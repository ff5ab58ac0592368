// Express "hello": its dependency comes from the npm registry when the
// builder runs npm install, so answering at all proves the pod's DNS and
// egress.
const express = require('express');

const app = express();
const port = Number(process.env.PORT || 8080);

app.get('/', (req, res) => res.type('text/plain').send('hello from express\n'));

app.listen(port, () => console.log(`express hello listening on ${port}`));
