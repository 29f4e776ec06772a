import type { Command } from 'commander';
import { register as datasets } from './datasets.js';
import { register as experiment } from './experiment.js';
import { register as demo } from './demo.js';
import { register as eda } from './eda.js';
import { register as train } from './train.js';
import { register as recommend } from './recommend.js';
import { register as models } from './models.js';
import { register as doctor } from './doctor.js';
import { register as serve } from './serve.js';
import { register as events } from './events.js';
import { register as pipeline } from './pipeline.js';
import { register as dashboard } from './dashboard.js';
import { register as spark } from './spark.js';

/** Adds one group of subcommands to the program. */
export type RegisterCommands = (program: Command) => void;

/** Every command module, in help order. Each module exports a `register` function; add yours here. */
export const commandModules: RegisterCommands[] = [datasets, models, train, recommend, pipeline, experiment, spark, eda, demo, serve, dashboard, events, doctor];
