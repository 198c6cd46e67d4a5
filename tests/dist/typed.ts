// A typed use of the installed package, checked by tsc in the empty
// project tests/dist/install.sh makes: the discriminated login result, the
// error codes, the principal's fields.
import { Doorward, DoorwardError, type ErrorCode, type Principal, type TokenPair } from 'doorward'

export async function signIn(
  dw: Doorward,
  username: string,
  password: string,
): Promise<TokenPair | { flowId: string }> {
  const result = await dw.login(username, password)
  // Narrowed by mfaRequired: flowId exists only on the challenge.
  return result.mfaRequired ? { flowId: result.flowId } : result
}

export async function whoIs(dw: Doorward, token: string): Promise<string> {
  try {
    const principal: Principal = await dw.verifyToken(token)
    const roles: string[] = principal.roles
    return `${principal.userId} ${roles.join(',')}`
  } catch (err) {
    if (err instanceof DoorwardError) {
      const code: ErrorCode = err.code
      return code
    }
    throw err
  }
}

// A wrong call must not type-check: tsc reports an unused directive
// otherwise.
export async function misuse(dw: Doorward): Promise<void> {
  // @ts-expect-error login takes a username and a password, not a number
  await dw.login(42)
}
