// A clock probe in plain Node: GET /now answers the process's wall clock after a 20 ms timer,
// so a test can see both the wall clock jump under libfaketime and Node's timers still firing.
const http = require('http');

const server = http.createServer((req, res) => {
  if (req.url === '/ready') {
    res.end('ok');
    return;
  }
  if (req.url === '/now') {
    const before = Date.now();
    setTimeout(() => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ now: Math.floor(Date.now() / 1000), timer_ms: Date.now() - before }));
    }, 20);
    return;
  }
  res.statusCode = 404;
  res.end('{}');
});
server.listen(Number(process.env.PORT), '127.0.0.1');
