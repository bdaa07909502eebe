export * from './config.js'
export * from './model.js'
export * from './errors.js'
export * from './admin.js'
