import { Route, Routes } from 'react-router'
import { starts } from '../../routes.js'
import { loadModels } from '../../store/loaders.js'
import { CreateFromRecipe } from './CreateFromRecipe.js'
import { ModelDetail } from './ModelDetail.js'
import { ModelList } from './ModelList.js'
import './models.css'

export const loader = starts(loadModels)

/** `/models`, `/models/new` (from a recipe) and `/models/:id`. */
export function Component() {
  return (
    <Routes>
      <Route index element={<ModelList />} />
      <Route path="new" element={<CreateFromRecipe />} />
      <Route path=":id" element={<ModelDetail />} />
    </Routes>
  )
}
