/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // Examples import the package by name, as users do.
  moduleNameMapper: { '^pyre-http$': '<rootDir>/src/index.ts' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
    // cookie 2 (used by light-my-request) is ESM-only; node 20 require()s it, jest's runtime cannot.
    '/node_modules/cookie/dist/.+\\.js$': ['ts-jest', { tsconfig: { allowJs: true, module: 'commonjs', target: 'ES2022' } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!cookie/dist/)'],
  testTimeout: 20000,
};
