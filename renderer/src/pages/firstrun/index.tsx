import { Loading } from '../../components/States.js'

/** Replaced by the screen's own view. */
export function Component() {
  return <Loading label="This screen is being built" />
}
