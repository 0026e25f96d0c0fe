// The product screens, from one place.
export { Products } from './Products';
export { NewProduct, ProductDetail } from './ProductDetail';
