// A real Julia session for the length of one test body, stopped (and waited for) whatever the body does.
import { JuliaSession } from '../../server/src/session/juliaSession.ts';

export async function inSession<T>(body: (s: JuliaSession) => Promise<T>): Promise<T> {
  const session = new JuliaSession({ juliaPath: process.env.JULIA ?? '' });
  await session.start();
  try {
    return await body(session);
  } finally {
    await session.stop();
  }
}
