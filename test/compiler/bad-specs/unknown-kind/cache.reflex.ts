// Written without defineReflex's types, as a user might.
export default { kind: 'cache', name: 'cache', description: 'x', route: '/c' };
