import { Route, Routes } from 'react-router'
import { Empty } from '../../components/States.js'
import { starts } from '../../routes.js'
import { useStore } from '../../store/index.js'
import { loadModels } from '../../store/loaders.js'
import { selectIsAdmin } from '../../store/selectors.js'
import { CreateFromRecipe } from './CreateFromRecipe.js'
import { ModelDetail } from './ModelDetail.js'
import { ModelList } from './ModelList.js'
import './models.css'

export const loader = starts(loadModels)

/** `/models`, `/models/new` (from a recipe) and `/models/:id`. */
export function Component() {
  const admin = useStore(selectIsAdmin)
  return (
    <Routes>
      <Route index element={<ModelList />} />
      <Route path="new" element={admin ? <CreateFromRecipe /> : <Empty title="Only admins add models" />} />
      <Route path=":id" element={<ModelDetail />} />
    </Routes>
  )
}
