// The console: the sign-in callback, the sign-in page, the "admins only" page, or — for an
// admin — the screen the path names. A customer who is not an admin causes one API call
// (/customer/me) and sees no data.

import { useEffect, useState } from 'preact/hooks';
import { get, type Me } from './api';
import { Layout } from './components/Layout';
import { Problem, Status } from './components/Problem';
import { Screen } from './components/Screen';
import { Link } from './components/Link';
import { useLoad } from './load';
import { useLocation, type Location } from './router';
import { AdminsOnly } from './screens/AdminsOnly';
import { Callback } from './screens/Callback';
import { Categories } from './screens/Categories';
import { CustomerDetail, Customers } from './screens/Customers';
import { HistoryScreen } from './screens/HistoryScreen';
import { Notifications } from './screens/Notifications';
import { OrderDetail } from './screens/OrderDetail';
import { Orders } from './screens/Orders';
import { Payments } from './screens/Payments';
import { NewProduct, ProductDetail, Products } from './screens/ProductsRoutes';
import { SignIn } from './screens/SignIn';
import { CALLBACK_PATH, currentToken, sessionNotice, subscribe } from './session';

function useToken(): string | null {
  const [token, setToken] = useState(currentToken);
  useEffect(() => subscribe(() => setToken(currentToken())), []);
  return token;
}

function NotFound() {
  return (
    <Screen title="Not found">
      <p>
        There is no such page in the back office. <Link href="/console/orders">Go to the orders</Link>.
      </p>
    </Screen>
  );
}

function route(loc: Location) {
  const parts = loc.path.split('/').slice(2).map(decodeURIComponent);
  const [section = 'orders', id, ...rest] = parts;
  if (rest.length > 0) return <NotFound />;
  switch (section) {
    case 'orders':
      return id ? <OrderDetail key={id} id={id} /> : <Orders loc={loc} />;
    case 'products':
      if (id === 'new') return <NewProduct />;
      return id ? <ProductDetail key={id} id={id} /> : <Products loc={loc} />;
    case 'categories':
      return id ? <NotFound /> : <Categories />;
    case 'payments':
      return id ? <NotFound /> : <Payments />;
    case 'notifications':
      return id ? <NotFound /> : <Notifications />;
    case 'customers':
      return id ? <CustomerDetail key={id} id={id} /> : <Customers loc={loc} />;
    case 'history':
      return id ? <NotFound /> : <HistoryScreen loc={loc} />;
    default:
      return <NotFound />;
  }
}

function SignedIn({ loc }: { loc: Location }) {
  const me = useLoad(() => get<Me>('/customer/me'), []);
  if (me.error) {
    return (
      <main class="centered" id="main">
        <h1>Back office</h1>
        <Problem error={me.error} onRetry={me.reload} />
      </main>
    );
  }
  if (!me.data) {
    return (
      <main class="centered" id="main">
        <h1>Back office</h1>
        <Status>Signing in…</Status>
      </main>
    );
  }
  if (!me.data.is_admin) return <AdminsOnly me={me.data} />;
  return (
    <Layout me={me.data} path={loc.path}>
      {route(loc)}
    </Layout>
  );
}

export function App() {
  const loc = useLocation();
  const token = useToken();
  if (loc.path === CALLBACK_PATH) return <Callback />;
  if (!token) return <SignIn notice={sessionNotice()} />;
  return <SignedIn key={token} loc={loc} />;
}
