/**
 * Spark knowledge the client needs: which settings only take effect when the server's JVM starts.
 * A session cannot change them, so the builder refuses them with an error that names them.
 */
export function isStaticSetting(key: string): boolean {
  return (
    /^spark\.(master|driver\.|executor\.|memory\.|ui\.|local\.dir|connect\.grpc|app\.name|serializer|eventLog|scheduler\.|sql\.warehouse\.dir|sql\.extensions|jars|files|submit\.)/.test(
      key,
    ) ||
    key === 'spark.sql.catalogImplementation' ||
    key === 'spark.sql.codegen.cache.maxEntries' ||
    // Read by the SparkContext when it starts (RDD and local-mode parallelism).
    key === 'spark.default.parallelism' ||
    // Read once, by the UI's listeners created with the server's shared state.
    key.startsWith('spark.sql.ui.') ||
    key.startsWith('spark.sql.streaming.ui.') ||
    key.startsWith('spark.connect.') ||
    key.startsWith('spark.hadoop.')
  );
}
