/**
 * `onyx inspect MODEL`: what the model is and whether Onyx can run every op in it.
 */
import { InferenceSession, inspectModel, OnyxError } from '../../index.js';
import { EXIT } from '../exit-codes.js';
import { formatBytes, table } from '../format.js';

export const help = `onyx inspect MODEL [--json]

Prints the model's IR version, producer, opsets, inputs and outputs (with symbolic dims), an op-type
histogram (subgraphs included), parameter count and bytes, and whether every op is supported.
Exit code 0 when every op is supported, 1 when some are not, 3 when the model cannot be read.`;

export async function inspect(args: string[], opts: { json?: boolean }): Promise<number> {
  const [path] = args;
  const info = await inspectModel(path);
  let unsupported: readonly string[] = [];
  let loadError: string | undefined;
  try {
    const s = await InferenceSession.create(path, { logSeverityLevel: 3 });
    await s.release();
  } catch (e) {
    if (e instanceof OnyxError && e.code === 'UNSUPPORTED_OP') unsupported = e.details;
    else loadError = (e as Error).message;
  }
  if (opts.json) {
    console.log(
      JSON.stringify(
        { ...info, supported: unsupported.length === 0 && !loadError, unsupported, loadError },
        null,
        2,
      ),
    );
    return unsupported.length ? EXIT.FAILED : EXIT.OK;
  }
  console.log(`model      ${path}`);
  console.log(`IR version ${info.irVersion}`);
  console.log(`producer   ${info.producer || '(none)'}`);
  console.log(`opsets     ${info.opsets.map((o) => `${o.domain} ${o.version}`).join(', ')}`);
  console.log(`nodes      ${info.nodeCount}`);
  console.log(
    `parameters ${info.parameterCount.toLocaleString('en-US')} in ${info.initializerCount} initializers (${formatBytes(info.parameterBytes)})`,
  );
  if (info.functions.length) console.log(`functions  ${info.functions.join(', ')}`);
  console.log('\ninputs');
  console.log(
    table(
      ['name', 'type'],
      info.inputs.map((i) => [i.name, i.onnxTypeText]),
    ),
  );
  console.log('\noutputs');
  console.log(
    table(
      ['name', 'type'],
      info.outputs.map((i) => [i.name, i.onnxTypeText]),
    ),
  );
  console.log('\nops');
  console.log(
    table(
      ['op', 'domain', 'count'],
      info.ops.map((o) => [o.opType, o.domain, o.count]),
    ),
  );
  if (loadError) {
    console.log(`\nsupported: cannot tell, the session failed to load: ${loadError}`);
    return EXIT.MODEL;
  }
  console.log(
    unsupported.length
      ? `\nsupported: NO — ${unsupported.length} unsupported:\n  ${unsupported.join('\n  ')}`
      : '\nsupported: yes, every op',
  );
  return unsupported.length ? EXIT.FAILED : EXIT.OK;
}
