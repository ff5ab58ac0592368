exports.greeting = () => 'Hello from odod v1';
