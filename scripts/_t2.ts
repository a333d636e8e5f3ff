import { stopSpark } from '../lib/runtime/spark-server';
stopSpark().then(r => console.log('stop', r));
